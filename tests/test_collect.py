"""One collection point: every rule the catalog lists is reachable from ``patchkit audit``.

Each rule code has a tiny app here, run through ``python -m patchkit audit --format json`` in a
subprocess, so a rule can never again exist only in unit tests (the audit once dropped PK108 and
PK201 because it collected findings on its own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patchkit import rules
from tests.helpers import HUB_GAP, run_patchkit, write

PATCH = "import warnings; warnings.simplefilter('ignore')\nfrom gevent import monkey\n"

# code -> {file name: source}; "app.py" is the target. Each app shows its rule in the plainest way.
APPS: dict[str, dict[str, str]] = {
    "PK101": {
        "late.py": "from time import sleep\n",
        "app.py": "import late\n" + PATCH + "monkey.patch_all()\n",
    },
    "PK102": {"app.py": "from time import sleep\n" + PATCH + "monkey.patch_all()\n"},
    "PK103": {
        "app.py": "import time\ndef retry(wait=time.sleep):\n    pass\n"
        + PATCH
        + "monkey.patch_all()\n"
    },
    "PK104": {
        "app.py": "import threading\nclass Poller(threading.Thread):\n    pass\n"
        + PATCH
        + "monkey.patch_all()\n"
    },
    "PK105": {
        "app.py": "import threading\nLOCK = threading.Lock()\n" + PATCH + "monkey.patch_all()\n"
    },
    "PK106": {
        "app.py": "import patchkit\npatchkit.apply('nothread')\n" + PATCH + "monkey.patch_all()\n"
    },
    "PK107": {
        "app.py": "import threading\n"
        + PATCH
        + "t = threading.Thread(target=monkey.patch_all)\nt.start()\nt.join()\n"
    },
    "PK108": {
        "app.py": "import patchkit\npatchkit.apply('full')\nimport time\n"
        "from gevent import monkey\ntime.sleep = monkey.get_original('time', 'sleep')\n"
    },
    "PK201": {"app.py": "import patchkit\npatchkit.apply('full')\nimport psycopg2\n"},
    "PK301": {
        "app.py": "import patchkit\npatchkit.apply('full')\nimport gevent\n"
        "from gevent import monkey\nnap = monkey.get_original('time', 'sleep')\n"
        "def work():\n    nap(0.3)\ngevent.spawn(work).join()\n"
    },
    "PK302": {
        "app.py": "import patchkit\npatchkit.apply('full')\nimport gevent, time\n"
        "def spin():\n    end = time.perf_counter() + 0.3\n    while time.perf_counter() < end:\n"
        "        pass\ngevent.spawn(spin).join()\n"
    },
    "PK501": {"app.py": "import requests\n" + PATCH + "monkey.patch_all()\n"},
    "PK502": {
        "app.py": "import requests\ndef main():\n    from gevent import monkey\n"
        "    monkey.patch_all()\nmain()\n"
    },
}


def audit(tmp_path: Path, files: dict[str, str], *args: str) -> dict[str, Any]:
    for name, source in files.items():
        write(tmp_path / name, source)
    proc = run_patchkit("audit", "--format", "json", *args, "app.py", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("code", rules.codes())
def test_every_rule_code_is_reported_by_the_audit(tmp_path: Path, code: str) -> None:
    assert code in APPS, f"{code} has no app here: add one, so the audit is shown to reach it"
    report = audit(tmp_path, APPS[code])
    codes = [f["code"] for f in report["findings"]]
    assert code in codes, json.dumps(report["findings"], indent=1)


# -- PK108 from the audit: a patch undone after patching, measured on the hub ------------------

RESTORED_SLEEP = (
    HUB_GAP
    + """
import time
from gevent import monkey
monkey.patch_all()
time.sleep = monkey.get_original("time", "sleep")   # an SDK "restores" the original
def nap():
    time.sleep(0.3)
print("GAP", hub_gap(nap)["gap"])
"""
)


def test_sleep_restored_after_patching_stalls_the_hub_and_the_audit_says_pk108(
    tmp_path: Path,
) -> None:
    report = audit(tmp_path, {"app.py": RESTORED_SLEEP})
    (drift,) = [f for f in report["findings"] if f["code"] == "PK108"]
    assert drift["object"] == "time.sleep" and "restored to the original" in drift["message"]
    # The harm is real: run plainly, the 0.3 s sleep in a greenlet stops the heartbeat.
    from tests.helpers import run_python

    plain = run_python(RESTORED_SLEEP)
    gap = float(plain.stdout.split("GAP")[-1])
    assert gap >= 0.25, plain.stdout + plain.stderr


def test_socket_class_put_back_like_pytest_socket_is_pk108(tmp_path: Path) -> None:
    source = PATCH + (
        "monkey.patch_all()\nimport socket\n"
        "socket.socket = monkey.get_original('socket', 'socket')   # pytest-socket's teardown\n"
    )
    report = audit(tmp_path, {"app.py": source})
    objects = [f["object"] for f in report["findings"] if f["code"] == "PK108"]
    assert objects == ["socket.socket"], report["findings"]


# -- PK201 when gevent runs without monkey-patching ---------------------------------------------


def _postgres_user() -> str:
    try:
        import psycopg2
    except ImportError:
        pytest.skip("psycopg2 is not installed (test extra)")
    for user in ("postgres", "root"):
        try:
            psycopg2.connect(host="127.0.0.1", dbname="test", user=user, connect_timeout=3).close()
            return user
        except psycopg2.OperationalError:
            continue
    pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432 (database test)")


UNPATCHED_PG = (
    HUB_GAP
    + """
import gevent, psycopg2
GREEN
def query():
    conn = psycopg2.connect(host="127.0.0.1", dbname="test", user="USER")
    conn.cursor().execute("SELECT pg_sleep(0.3)")
    conn.close()
print("GAP", hub_gap(query)["gap"])
"""
)


@pytest.mark.parametrize("green", [False, True], ids=["plain", "psycogreen"])
def test_gevent_without_patching_and_psycopg2_is_pk201_unless_psycogreen_waits(
    tmp_path: Path, green: bool
) -> None:
    user = _postgres_user()
    wait = "import psycogreen.gevent\npsycogreen.gevent.patch_psycopg()" if green else ""
    source = UNPATCHED_PG.replace("USER", user).replace("GREEN", wait)
    report = audit(tmp_path, {"app.py": source})
    assert report["patches"] == []  # nothing was monkey-patched
    gap = _gap(tmp_path, source)  # the same app run plainly, to measure the harm
    natives = [f for f in report["findings"] if f["code"] == "PK201"]
    if green:
        assert natives == [] and gap < 0.2, (gap, report["findings"])
    else:
        assert gap >= 0.25, gap  # measured: the query held the hub
        (finding,) = natives
        assert finding["object"] == "psycopg2"
        assert "`psycopg2.extensions.get_wait_callback() is set` is false" in finding["message"]
        assert "psycogreen" in finding["fix"]


def _gap(tmp_path: Path, source: str) -> float:
    from tests.helpers import run_python

    proc = run_python(source, cwd=tmp_path)
    return float(proc.stdout.split("GAP")[-1])


def test_pk201_states_the_fact_without_contradicting_itself(tmp_path: Path) -> None:
    report = audit(tmp_path, APPS["PK201"])
    (finding,) = [f for f in report["findings"] if f["code"] == "PK201"]
    message = finding["message"]
    assert message.startswith("psycopg2 does its I/O in C and this process has not made it")
    assert "`psycopg2.extensions.get_wait_callback() is set` is false" in message
    assert "stops all greenlets" in message
    assert "is not made cooperative (" not in message  # the old contradictory wording


def test_gevent_imported_but_never_run_is_not_pk201(tmp_path: Path) -> None:
    # No hub, nothing patched: no greenlet can be stopped, so a C client is no finding.
    report = audit(tmp_path, {"app.py": "import gevent, psycopg2\nprint(gevent.__version__)\n"})
    assert [f["code"] for f in report["findings"]] == [], report["findings"]
