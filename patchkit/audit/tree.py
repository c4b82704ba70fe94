"""Every process the target starts ends with the audit, even those that leave its group.

A target may ``setsid()``, double-fork a daemon or ``Popen(start_new_session=True)``: killing the
child's process group misses those. On Linux the audit becomes a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``), so an orphan is re-parented to us instead of init and its
ancestry always leads back; at the end every descendant is killed and reaped, repeatedly until none
is left. Elsewhere (macOS) the process table is sampled while the target runs, so an orphan is
remembered by pid and by group before it is re-parented away.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys

from patchkit import _real

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37

Table = dict[int, tuple[int, int, str]]  # pid -> (parent pid, process group, state letter)


def set_subreaper(on: bool) -> bool | None:
    """Make this process a child subreaper (Linux); the previous setting, or None if unavailable."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        previous = ctypes.c_int(0)
        if libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(previous), 0, 0, 0) != 0:
            return None
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return bool(previous.value)


def process_table(use_proc: bool = True) -> Table:
    """Every visible process: from ``/proc`` when there is one, else from ``ps``."""
    if use_proc and os.path.isdir("/proc/self"):
        return _proc_table()
    return _ps_table()


def _proc_table() -> Table:
    table: Table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        table[int(name)] = (int(fields[1]), int(fields[2]), fields[0].decode())
    return table


def _ps_table() -> Table:
    try:
        ps = subprocess.Popen(
            ["ps", "-A", "-o", "pid=,ppid=,pgid=,stat="],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        out = ps.communicate(timeout=30)[0]
    except (OSError, subprocess.SubprocessError):
        return {}
    table: Table = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0].isdigit():
            table[int(words[0])] = (int(words[1]), int(words[2]), words[3][:1])
    table.pop(ps.pid, None)  # ps itself, gone by now
    return table


class ProcessTree:
    """The child's process tree: sampled while it runs, killed and reaped at the end."""

    def __init__(self, *, use_proc: bool = True, subreaper: bool = True) -> None:
        self.me = os.getpid()
        self.use_proc = use_proc
        self.previous = set_subreaper(True) if subreaper else None
        self.reaping = self.previous is not None
        self.root: int | None = None
        # Our own children from before the audit are not the target's.
        self.before = {p for p, (pp, _, _) in process_table(use_proc).items() if pp == self.me}
        self.seen: set[int] = set()
        self.groups: set[int] = set()

    def start(self, pid: int) -> None:
        self.root = pid
        self.seen.add(pid)
        self.groups.add(pid)  # the child leads its own session and group

    def record(self) -> None:
        """Remember every process of the tree now, so an orphan can still be found later."""
        table = process_table(self.use_proc)
        found = self._members(table)
        self.seen |= found
        self.groups |= {table[pid][1] for pid in found if table[pid][1] > 1}

    def _members(self, table: Table) -> set[int]:
        members: set[int] = set()
        for pid in table:
            if pid != self.me and self._belongs(pid, table):
                members.add(pid)
        return members

    def _belongs(self, pid: int, table: Table) -> bool:
        if pid in self.seen or table[pid][1] in self.groups:
            return True
        chain = 0
        while pid in table and chain < 200:  # a cycle cannot happen, but stay bounded
            parent = table[pid][0]
            if parent == self.root or (parent == self.me and pid not in self.before):
                return True
            if parent in (0, 1, self.me):
                return False
            pid, chain = parent, chain + 1
        return False

    def kill_all(self, within: float = 15.0) -> set[int]:
        """SIGKILL and reap every process of the tree, until none is left; the pids ended."""
        ended: set[int] = set()
        limit = _real.monotonic() + within
        while True:
            table = process_table(self.use_proc)
            members = self._members(table)
            alive = {pid for pid in members if table[pid][2] not in ("Z", "X")}
            for pid in alive:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            for pid in members:
                if table[pid][0] == self.me and pid != self.root:  # the launcher waits for root
                    self._reap(pid)
            ended |= members
            if not alive or _real.monotonic() > limit:
                break
            _real.sleep(0.02)
        return ended

    def _reap(self, pid: int) -> None:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)

    def close(self) -> None:
        if self.previous is not None:
            set_subreaper(self.previous)
