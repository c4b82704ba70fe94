"""Where the real servers are: one table, each entry overridable by environment variables.

Every measurement talks to a real server. Defaults are the local services `tools/ci_services.sh`
starts; `PATCHKIT_COMPAT_<NAME>_HOST` / `_PORT` (and `_USER`, `_PASSWORD`, `_DB` where they
apply) point the suite elsewhere. docs/services.md lists them.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str  # the env-var infix and what a skip reason names
    title: str
    default_port: int
    user: str = ""
    password: str = ""
    db: str = ""

    def _env(self, key: str, default: str) -> str:
        return os.environ.get(f"PATCHKIT_COMPAT_{self.name.upper()}_{key}", default)

    @property
    def host(self) -> str:
        return self._env("HOST", "127.0.0.1")

    @property
    def port(self) -> int:
        return int(self._env("PORT", str(self.default_port)))

    @property
    def creds(self) -> dict[str, str]:
        return {
            "user": self._env("USER", self.user),
            "password": self._env("PASSWORD", self.password),
            "db": self._env("DB", self.db),
        }

    def unreachable(self, timeout: float = 1.0) -> str | None:
        """None when something accepts TCP connections at host:port, else why not."""
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                return None
        except OSError as exc:
            return f"{self.title} not reachable at {self.host}:{self.port} ({exc})"


SERVICES = {
    s.name: s
    for s in (
        Service("pg", "PostgreSQL", 5432, user="postgres", db="test"),
        Service("mysql", "MariaDB/MySQL", 3306, user="root", db="test"),
        Service("redis", "Redis", 6379),
        Service("amqp", "RabbitMQ", 5672, user="guest", password="guest"),
        Service("mqtt", "Mosquitto (MQTT)", 1883),
    )
}


def service(name: str) -> Service:
    return SERVICES[name]
