"""Profiles patch exactly their set: checked in a fresh interpreter against gevent's own state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patchkit.config import ProfileSpec, ProjectConfig
from patchkit.errors import ProfileError
from patchkit.profiles import BUILTINS, PATCH_NAMES, builtin_table, resolve
from tests.helpers import REPO, json_from_stdout, run_python

PROBE = """
import json, sys
import patchkit
patchkit.apply({name!r})
from gevent import monkey
import gevent.select, gevent.socket, gevent.ssl, gevent.subprocess, gevent.thread
import gevent.event, gevent.os, gevent.queue
import os, queue, select, socket, ssl, subprocess, threading, time, _thread, gevent
print(json.dumps({{
    "socket": socket.socket is gevent.socket.socket and monkey.is_module_patched("socket"),
    "dns": socket.getaddrinfo is gevent.socket.getaddrinfo,
    "time": time.sleep is gevent.sleep,
    "select": select.select is gevent.select.select and monkey.is_module_patched("selectors"),
    "aggressive": not hasattr(select, "epoll"),
    "thread": _thread.start_new_thread is gevent.thread.start_new_thread
        and monkey.is_module_patched("threading"),
    "Event": threading.Event is gevent.event.Event,
    "os": os.fork is gevent.os.fork,
    "ssl": ssl.SSLContext is gevent.ssl.SSLContext,
    "subprocess": subprocess.Popen is gevent.subprocess.Popen,
    "queue": queue.Queue is gevent.queue.Queue,
    "signal": monkey.is_module_patched("signal"),
}}))
"""
OBSERVABLE = ("socket", "dns", "time", "select", "aggressive", "thread", "Event", "os", "ssl")
OBSERVABLE += ("subprocess", "queue", "signal")


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_profile_patches_exactly_its_set(name: str) -> None:
    proc = run_python(PROBE.format(name=name))
    assert proc.returncode == 0, proc.stderr
    seen = json_from_stdout(proc)
    patches = BUILTINS[name][0]
    assert seen == {key: key in patches for key in OBSERVABLE}


def test_settings_name_every_patch_all_keyword_in_gevent_order() -> None:
    import inspect

    from gevent import monkey

    keywords = [p for p in inspect.signature(monkey.patch_all).parameters if p != "kwargs"]
    assert list(PATCH_NAMES) == keywords
    assert resolve("full").settings() == {
        p.name: p.default
        for p in inspect.signature(monkey.patch_all).parameters.values()
        if p.name != "kwargs"
    }


def test_nothread_is_full_without_thread_event_and_queue() -> None:
    # queue too: gevent's queue cannot be woken by real threads (see docs/profiles.md)
    missing = resolve("full").patches - resolve("nothread").patches
    assert missing == {"thread", "Event", "queue"}


def _config(**specs: ProfileSpec) -> ProjectConfig:
    return ProjectConfig(profiles=specs)


def _spec(name: str, **kwargs: object) -> ProfileSpec:
    return ProfileSpec(name, "pyproject.toml", f"tool.patchkit.profiles.{name}", **kwargs)


def test_project_profile_extends_adds_and_skips() -> None:
    config = _config(
        web=_spec("web", extends="full", skip=("subprocess",), integrations=("psycopg2",)),
        api=_spec("api", extends="web", patch=("sys",), skip=("thread",)),
    )
    api = resolve("api", config)
    assert api.patches == resolve("full").patches - {"subprocess", "thread", "Event"} | {"sys"}
    assert api.integrations == ("psycopg2",)
    assert api.source == "pyproject.toml:[tool.patchkit.profiles.api]"
    assert api.settings()["sys"] is True and api.settings()["subprocess"] is False


def test_configured_profile_is_the_default_and_an_argument_wins() -> None:
    config = ProjectConfig(profile="web", profiles={"web": _spec("web", extends="network")})
    assert resolve(None, config).name == "web"
    assert resolve("none", config).name == "none"
    assert resolve(None, None).name == "full"


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ({"a": _spec("a", extends="b"), "b": _spec("b", extends="a")}, "cyclic extends"),
        ({"a": _spec("a", extends="nope")}, "extends: unknown profile 'nope'"),
        ({"a": _spec("a", skip=("sockets",))}, "skip: unknown patch name 'sockets'"),
        ({"a": _spec("a", patch=("nope",))}, "patch: unknown patch name 'nope'"),
        ({"a": _spec("a", integrations=("mongo",))}, "integrations: unknown integration 'mongo'"),
    ],
)
def test_profile_mistakes_name_file_section_and_key(specs: dict, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        resolve("a", _config(**specs))
    text = str(caught.value)
    assert message in text
    assert text.startswith("pyproject.toml: [tool.patchkit.profiles.")
    assert "\n" not in text


def test_unknown_profile_lists_the_choices() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'fulll' \(choose from full, "):
        resolve("fulll")


def test_docs_table_matches_the_builtin_profiles() -> None:
    text = (Path(REPO) / "docs" / "profiles.md").read_text()
    match = re.search(
        r"<!-- builtin-profiles:start -->\n(.*?)\n<!-- builtin-profiles:end -->", text, re.S
    )
    assert match, "docs/profiles.md lost its builtin-profiles markers"
    assert match.group(1).strip() == builtin_table(), (
        "docs/profiles.md is stale: paste patchkit.profiles.builtin_table() between the markers"
    )
