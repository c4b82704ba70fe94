"""The rule catalog: one entry per code, read by the detectors, the writers, explain and docs.

Each rule keeps its documentation next to its code (ruff-style), so ``docs/rules/PKxxx.md`` is
generated from here and cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # "error" blocks the hub or breaks, "warning" is risky, "info" is context
    summary: str
    fix: str
    what: str = ""
    why: str = ""
    example: str = ""
    use_instead: str = ""
    profiles: str = "all profiles that patch the affected module"
    # Where the check lives (ruff-style: every rule page says so): repository paths, the module
    # that makes the finding first. ``tests/test_rule_docs.py`` checks that each path exists.
    detector: tuple[str, ...] = ()


CATALOG: tuple[Rule, ...] = (
    Rule(
        "PK101",
        "patched-late",
        "warning",
        "patching ran after non-stdlib modules that use patch targets were loaded",
        "Patch before anything else: make `import patchkit.auto` the first line of the entry "
        "point, or run it under `python -m patchkit run`.",
        what=(
            "Reports a patch request (`patchkit.apply`, `patch_all()`, `import patchkit.auto`) "
            "that ran after application modules were loaded which now hold unpatched originals. "
            "It names each such module and the `file:line` that first imported it."
        ),
        why=(
            "gevent can only replace what is looked up after patching. A module imported earlier "
            "keeps whatever it bound at import time: `from time import sleep`, a "
            "`threading.Lock()` made at module level, a class derived from `threading.Thread`. "
            "Those keep blocking the event loop (or hang) after the patch, and the other findings"
            " of this report show where. Importing `time` or `socket` alone is not reported: a "
            "module that looks the function up at call time gets the patched one."
        ),
        example=(
            "import redis               # loads redis.retry, which binds time.sleep\n"
            "from gevent import monkey\n"
            "monkey.patch_all()         # too late for redis.retry.sleep"
        ),
        use_instead=(
            "from gevent import monkey\n"
            "monkey.patch_all()         # or: import patchkit.auto\n"
            "import redis"
        ),
        profiles=("every profile: the earlier the patch, the less there is to find"),
        detector=("patchkit/detect/patching.py", "patchkit/detect/walker.py"),
    ),
    Rule(
        "PK102",
        "stale-global",
        "error",
        "a module global bound to an unpatched original that bypasses gevent",
        "Import the module, not the name (`import time; time.sleep(...)`), or patch before "
        "this module is imported.",
        what=(
            "Reports a module global that is the pre-patch original of something gevent replaces,"
            " where holding the original really bypasses gevent (the harm table in "
            "`patchkit/detect/originals.py` lists which do, each measured). The message says "
            "what kind of original it is: a function blocks for the whole call; a factory "
            "(`threading.Lock`) or a class (`socket.socket`) makes real OS objects that block "
            "the hub when they wait."
        ),
        why=(
            "`from time import sleep` executed before patching binds the C `time.sleep`. Patching"
            " replaces `time.sleep` in the `time` module, not the name already bound elsewhere, "
            "so every call through that name stops the whole hub: no other greenlet runs until it"
            " returns. The same holds for `threading.Lock`, `select.select`, `socket.socket`, "
            "`socket.getaddrinfo`, `queue.SimpleQueue` and the epoll selectors. Captures measured"
            " harmless (`socket.create_connection`, `queue.Queue`, `subprocess.check_output`, "
            "`threading.Event`) are not reported."
        ),
        example=(
            "from time import sleep     # runs before patching\n"
            "\n"
            "def backoff(attempt):\n"
            "    sleep(0.1 * attempt)   # blocks every greenlet"
        ),
        use_instead=(
            "import time\n"
            "\n"
            "def backoff(attempt):\n"
            "    time.sleep(0.1 * attempt)  # the patched sleep, looked up at call time"
        ),
        profiles=(
            "profiles that patch the original's module: `time`, `thread`, `socket`, `dns`, "
            "`select`, `queue` (`full` has them all; `network` only socket, dns, ssl and select)"
        ),
        detector=("patchkit/detect/walker.py", "patchkit/detect/originals.py"),
    ),
    Rule(
        "PK103",
        "stale-binding",
        "error",
        "a class attribute, function default or closure bound to an unpatched original",
        "Look the function up at call time instead of binding it at import, or patch before "
        "this module is imported.",
        what=(
            "Reports a harmful original held somewhere other than a module global: a class "
            "attribute (also through `staticmethod`/`classmethod`), a function's default argument"
            " or closure, an entry one level inside a module-level dict, list or tuple, or the "
            "function a standard-library object keeps (a `sched.scheduler`'s `delayfunc`), "
            "reported at the global that holds the object."
        ),
        why=(
            "These bindings are made when the class, function or table is created, so a class "
            "body or `def` that ran before patching keeps the blocking original for the life of "
            "the process. kafka-python keeps `selectors.DefaultSelector` in its `DEFAULT_CONFIG` "
            "dict; kazoo's threading handler keeps `staticmethod(time.sleep)`; "
            "`sched.scheduler(time.time, time.sleep)` made before patching keeps the C sleep, "
            "and its `run()` stops the hub for each delay (0.3 s measured for a 0.3 s event)."
        ),
        example=(
            "import time\n"
            "\n"
            "class Poller:\n"
            "    wait = staticmethod(time.sleep)   # evaluated at import\n"
            "\n"
            "def retry(call, sleep=time.sleep):    # default bound at import\n"
            "    ..."
        ),
        use_instead=(
            "import time\n"
            "\n"
            "class Poller:\n"
            "    def wait(self, seconds):\n"
            "        time.sleep(seconds)           # looked up at call time"
        ),
        profiles=("as PK102"),
        detector=("patchkit/detect/walker.py", "patchkit/detect/originals.py"),
    ),
    Rule(
        "PK104",
        "unpatched-subclass",
        "error",
        "a class derived from an unpatched original class",
        "Patch before the module defining this class is imported, so it derives from "
        "gevent's class.",
        what=(
            "Reports a class, defined outside the standard library, that derives from the "
            "pre-patch original of a class gevent replaces (`threading.Thread`, "
            "`threading.Timer`, `socket.socket`, `ssl.SSLContext`, `selectors.EpollSelector`, "
            "`threading.local`, `subprocess.Popen`) and not from gevent's replacement."
        ),
        why=(
            "A class statement fixes its bases when it runs. Patched later, the subclass still "
            "inherits the original behaviour: a pre-patch `threading.Thread` subclass runs on "
            "patched threading internals and its `join()` never returns (`LoopExit` when "
            "nothing else is alive; measured on Python 3.10-3.12 — from 3.13 it joins, and is "
            "not reported there); a pre-patch `ssl.SSLContext` subclass "
            "recurses when its options are set (gevent#1016); a `socket.socket` subclass does "
            "blocking I/O."
        ),
        example=(
            "import threading\n"
            "\n"
            "class Worker(threading.Thread):   # defined before patching\n"
            "    def run(self): ...\n"
            "\n"
            "from gevent import monkey\n"
            "monkey.patch_all()\n"
            "worker = Worker()\n"
            "worker.start()\n"
            "worker.join()                     # LoopExit"
        ),
        use_instead=(
            "import patchkit.auto                 # patch first\n"
            "import threading\n"
            "\n"
            "class Worker(threading.Thread):      # derives from gevent's Thread\n"
            "    def run(self): ..."
        ),
        profiles=("profiles that patch `thread`, `socket`, `ssl`, `select` or `subprocess`"),
        detector=("patchkit/detect/walker.py", "patchkit/detect/originals.py"),
    ),
    Rule(
        "PK105",
        "prepatch-object",
        "error",
        "a live object made before patching that keeps blocking or per-thread behaviour",
        "Create the object after patching (lazily, on first use), or patch before this "
        "module is imported.",
        what=(
            "Reports a live object made before patching that keeps OS-thread or blocking "
            "behaviour, reachable from a module global, a class attribute or one level into a "
            "module-level container: a real lock or RLock, a `threading.local`, an epoll "
            "selector, an original socket or SSL context."
        ),
        why=(
            "Patching replaces the factories, not the objects they already made. A real lock made"
            " at import blocks the whole hub when a greenlet waits on it; a real RLock is owned "
            "by the OS thread, so greenlets do not exclude each other; a pre-patch "
            "`threading.local` is one state shared by every greenlet, which leaks request data "
            "between them. Locks gevent converts itself (logging's module and handler locks) are "
            "not reported."
        ),
        example=(
            "import threading\n"
            "STATS_LOCK = threading.Lock()     # a real lock, made before patching\n"
            "_request = threading.local()      # one value for all greenlets\n"
            "\n"
            "from gevent import monkey\n"
            "monkey.patch_all()"
        ),
        use_instead=(
            "import patchkit.auto\n"
            "import threading\n"
            "STATS_LOCK = threading.Lock()     # gevent's lock\n"
            "_request = threading.local()      # per greenlet"
        ),
        profiles=("profiles that patch `thread` (`full`), `select` or `socket`"),
        detector=(
            "patchkit/detect/walker.py",
            "patchkit/detect/deep.py",
            "patchkit/detect/prepatch_kinds.py",
        ),
    ),
    Rule(
        "PK106",
        "repatched",
        "warning",
        "patching requested again with different settings",
        "Patch once, from one place, with one profile: remove the other patch call or make "
        "both use the same profile.",
        what=(
            "Reports a second patch request whose settings differ from the first, naming both "
            "callers."
        ),
        why=(
            "gevent patches the union of what was asked, and only warns. Two places that each "
            "think they own patching (a server worker and the app, a test fixture and a plugin) "
            "produce a process whose patch set nobody chose, and an order nobody tested."
        ),
        example=(
            "# gunicorn's gevent worker already ran patch_all()\n"
            "from gevent import monkey\n"
            "monkey.patch_all(thread=False)     # different settings, second caller"
        ),
        use_instead=(
            "# one place patches, with one profile\n"
            "# gunicorn -k patchkit.gunicorn.GeventWorker app:app"
        ),
        profiles=("all profiles"),
        detector=("patchkit/detect/patching.py",),
    ),
    Rule(
        "PK107",
        "patched-off-main-thread",
        "warning",
        "patching ran outside the main thread, or while other OS threads were running",
        "Patch in the main thread before any thread is started.",
        what=(
            "Reports patching that ran outside the main thread, or while other OS threads were "
            "already running."
        ),
        why=(
            "Threads started before patching keep running real OS code and hold real locks that "
            "the patch then swaps under them; gevent's hub belongs to the thread that creates it."
            " gevent warns about this; the results are deadlocks at exit and locks that never "
            "release."
        ),
        example=(
            "import threading\n"
            "threading.Thread(target=poll_metrics, daemon=True).start()\n"
            "from gevent import monkey\n"
            "monkey.patch_all()"
        ),
        use_instead=(
            "import patchkit.auto                 # first, in the main thread\n"
            "import threading\n"
            "threading.Thread(target=poll_metrics, daemon=True).start()"
        ),
        profiles=("all profiles"),
        detector=("patchkit/detect/patching.py",),
    ),
    Rule(
        "PK108",
        "patch-drift",
        "error",
        "a patched attribute was replaced or restored after patching",
        "Find the code that reassigns the attribute (often a test helper or an SDK "
        "`restore_*()` call) and remove it, or re-apply the profile after it.",
        what=(
            "Reports a patched attribute that no longer holds gevent's object (replaced or "
            "restored after patching), and an integration that is no longer in effect."
        ),
        why=(
            "Some SDKs and test helpers save and restore `socket.socket` or `time.sleep`; "
            "dnspython's `restore_system_resolver()` puts back the functions it captured at "
            "import, which are the unpatched ones when it was imported first. Everything after "
            "that call is blocking again, silently."
        ),
        example=(
            "import dns.resolver                  # captures socket.getaddrinfo\n"
            "import patchkit.auto\n"
            "dns.resolver.restore_system_resolver()   # puts the original back"
        ),
        use_instead=(
            "import patchkit.auto\nimport dns.resolver                  # captures the patched one"
        ),
        profiles=("all profiles"),
        detector=("patchkit/detect/patching.py",),
    ),
    Rule(
        "PK201",
        "blocking-extension",
        "error",
        "a loaded C-extension client that does its I/O in C and is not made cooperative",
        "Make the client cooperative (see the message) or run its calls in a real thread "
        "(`gevent.get_hub().threadpool`).",
        what=(
            "Reports a loaded C-extension client that does its network I/O in C, below gevent, "
            "and has not been made cooperative: psycopg2 without a wait callback, mysqlclient, "
            "grpcio without `init_gevent()`, plain pyzmq instead of `zmq.green`, confluent-kafka,"
            " pylibmc, pyodbc, pymssql, cx_Oracle, oracledb in thick mode, psycopg 3.1.5-3.1.13 "
            "with its C wait. Reported only when gevent is in use (something was monkey-patched, "
            "or the audit saw gevent run)."
        ),
        why=(
            "Patching swaps Python's socket module; libpq, libmysqlclient or the gRPC core never "
            "use it. Each query waits in C for its whole duration and no other greenlet runs: ten"
            " concurrent `pg_sleep(0.2)` take two seconds. Pure-Python clients (PyMySQL, "
            "redis-py, requests) use the patched socket and are never reported."
        ),
        example=(
            "import patchkit.auto\n"
            "import psycopg2\n"
            "\n"
            "conn = psycopg2.connect(DSN)   # every query blocks the hub"
        ),
        use_instead=(
            "import patchkit.auto\n"
            "import psycogreen.gevent\n"
            "import psycopg2\n"
            "\n"
            'psycogreen.gevent.patch_psycopg()   # or: integrations = ["psycopg2"]\n'
            "conn = psycopg2.connect(DSN)"
        ),
        profiles=("every profile that patches `socket` (`full`, `nothread`, `network`)"),
        detector=(
            "patchkit/detect/scan.py",
            "patchkit/detect/walker.py",
            "patchkit/detect/natives.py",
        ),
    ),
    Rule(
        "PK301",
        "blocking-call",
        "error",
        "at run time, a blocking original was called from a greenlet on the hub's thread",
        "Call the patched function (look it up on its module at call time), or patch before "
        "the caller's module is imported.",
        what=(
            "At run time (`patchkit audit`), reports each call of a blocking original from a "
            "greenlet on the hub's thread, with the caller's `file:line` and stack."
        ),
        why=(
            "The static scan sees names that hold originals; the tripwires see the calls that "
            "actually happened, including through names the scan cannot see (a local variable, an"
            " object attribute). Each such call stopped every greenlet for its duration."
        ),
        example=(
            "from time import sleep     # bound before patching\n"
            "...\n"
            "sleep(0.05)                # called from a greenlet: reported with this line"
        ),
        use_instead=("import time\n...\ntime.sleep(0.05)           # the patched sleep"),
        profiles=(
            "every profile; `audit` installs the tripwires before the target imports anything"
        ),
        detector=("patchkit/detect/tripwires.py", "patchkit/detect/originals.py"),
    ),
    Rule(
        "PK302",
        "hub-blocked",
        "error",
        "at run time, the event loop did not run for longer than the threshold",
        "Move the CPU-bound or blocking work to a real thread (`gevent.get_hub().threadpool`) "
        "or a process, or yield with `gevent.sleep(0.001)` (not `sleep(0)`, which lets no I/O "
        "run) inside long loops.",
        what=(
            "At run time, reports each time the event loop did not run for longer than the "
            "threshold (`--threshold`, 100 ms by default), with the true duration and the stack "
            "that held it."
        ),
        why=(
            "A greenlet that never yields (a CPU-bound loop, a C call that holds the GIL, a "
            "blocking call patchkit has no tripwire for) starves every other greenlet: requests "
            "time out, heartbeats are missed. The duration is measured from greenlet switches, so"
            " it is exact."
        ),
        example=(
            "def handler():\n    data = re.match(SLOW_PATTERN, body)   # 0.8 s holding the hub"
        ),
        use_instead=(
            "def handler():\n"
            "    pool = gevent.get_hub().threadpool\n"
            "    data = pool.apply(re.match, (SLOW_PATTERN, body))"
        ),
        profiles=("every profile"),
        detector=("patchkit/detect/watch.py", "patchkit/detect/lag.py"),
    ),
    Rule(
        "PK501",
        "import-before-patch",
        "warning",
        "static: in the entry file a module-level import precedes the patch call",
        "Move the patch call (`import patchkit.auto`) above every other import.",
        what=(
            "Static: in the entry file, reports each module-level import that comes before the "
            "patch call (`import patchkit.auto`, `patchkit.apply(...)`, `monkey.patch_all()`). "
            "`__future__`, docstrings and gevent/patchkit imports are allowed first, and so are "
            "standard-library imports that bind nothing gevent replaces harmfully (`import time`, "
            "`from queue import Queue`): they look the patched names up at call time. "
            "`from time import sleep`, `from threading import Lock` and `import ssl` are reported."
        ),
        why=(
            "Anything imported before the patch may bind originals (see PK101-PK105). The order "
            "is cheap to get right in the entry file and easy to get wrong later, when an import "
            "is added above the patch or an editor sorts the imports."
        ),
        example=("import requests\nfrom gevent import monkey\nmonkey.patch_all()"),
        use_instead=(
            "from gevent import monkey\nmonkey.patch_all()\nimport requests   # noqa: E402"
        ),
        profiles=("every profile (static: nothing is run)"),
        detector=("patchkit/detect/static.py",),
    ),
    Rule(
        "PK502",
        "patch-not-top-level",
        "warning",
        "static: the patch call is inside a function, class or condition",
        "Call the patch at module level, as the first statement of the entry file.",
        what=(
            "Static: reports a patch call that sits inside a function, class, `if` or `try` in "
            "the entry file, when module-level imports already ran before it could."
        ),
        why=(
            "A patch inside `main()` or behind `if USE_GEVENT:` runs only after everything "
            "imported at module level is loaded, so those modules keep their originals. It also "
            "hides the patch from readers and tools."
        ),
        example=(
            "import myapp\n"
            "\n"
            "def main():\n"
            "    from gevent import monkey\n"
            "    monkey.patch_all()\n"
            "    myapp.serve()"
        ),
        use_instead=("import patchkit.auto\nimport myapp\n\ndef main():\n    myapp.serve()"),
        profiles=("every profile (static: nothing is run)"),
        detector=("patchkit/detect/static.py",),
    ),
)

_BY_CODE = {rule.code: rule for rule in CATALOG}


def get(code: str) -> Rule:
    """The rule for ``code``; ``KeyError`` for an unknown code."""
    return _BY_CODE[code.upper()]


def codes() -> list[str]:
    return [rule.code for rule in CATALOG]


def parse_codes(words: str | Iterable[str]) -> tuple[str, ...]:
    """Rule codes or prefixes (``"PK1"``, ``"pk102, PK3"``), upper-cased, as written in order.

    The one parser behind ``--select``/``--ignore``, ``ignore = [...]`` in the config and
    ``# patchkit: ignore[...]`` comments, so a prefix means the same everywhere: ``PK1`` is every
    PK1xx code. ``ValueError`` names the first word that is no code's prefix.
    """
    items = [words] if isinstance(words, str) else list(words)
    out: list[str] = []
    for item in items:
        for word in str(item).replace(",", " ").split():
            code = word.upper()
            if not any(known.startswith(code) for known in _BY_CODE):
                raise ValueError(f"unknown rule code {word!r}")
            out.append(code)
    return tuple(out)


def checked_in(rule: Rule) -> str:
    """Where the rule's check lives, as Markdown: the first path makes the finding."""
    return ", ".join(f"`{path}`" for path in rule.detector)


def page(code: str) -> str:
    """The rule's documentation as Markdown: ``docs/rules/PKxxx.md`` and ``patchkit explain``."""
    rule = get(code)
    return "\n".join(
        [
            f"# {rule.code} {rule.name}",
            "",
            f"Severity: **{rule.severity}**. Applies to: {rule.profiles}.",
            "",
            f"Checked in {checked_in(rule)}.",
            "",
            "## What it does",
            rule.what or rule.summary,
            "",
            "## Why is this bad?",
            rule.why,
            "",
            "## Example",
            "```python",
            rule.example,
            "```",
            "",
            "## Use instead",
            "```python",
            rule.use_instead,
            "```",
            "",
            "## Fix",
            rule.fix,
            "",
            f"Suppress on the reported line with `# patchkit: ignore[{rule.code}]`, for the "
            f'project with `ignore = ["{rule.code}"]`, or per run with `--ignore {rule.code}`.',
            "",
        ]
    )
