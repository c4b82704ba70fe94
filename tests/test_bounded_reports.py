"""PK301 and PK302 stay bounded: thousands of call sites or stalls give a short report.

The busiest places get their own findings; one summary finding carries the rest and the totals.
Memory is bounded too: sites and stalls past a cap are only counted.
"""

from __future__ import annotations

import json
from pathlib import Path

from patchkit.detect import tripwires, watch
from patchkit.detect.watch import Stall, stall_findings
from tests.helpers import json_from_stdout, run_python, write

SITES = 5000


def test_five_thousand_stale_call_sites_give_a_bounded_pk301_report_with_right_totals(
    tmp_path: Path,
) -> None:
    calls = "\n".join(f"    sleep(1e-6)  # site {n}" for n in range(SITES))
    code = f"""
from patchkit.detect import tripwires
tripwires.install()
import json
from pathlib import Path
from time import sleep  # the wrapper, bound before patching
from gevent import monkey; monkey.patch_all()
import gevent, patchkit

def busy():
    for _ in range(3):
        sleep(1e-6)  # BUSY

def many():
{calls}

with patchkit.watch(0.1) as w:
    gevent.joinall([gevent.spawn(busy), gevent.spawn(many)], timeout=60)
found = [f.as_dict() for f in w.findings() if f.code == "PK301"]
print(json.dumps({{"findings": found, "stored": len(tripwires._state.sites)}}))
"""
    app = write(tmp_path / "many_sites.py", code)  # too long for python -c
    run = f"import runpy; runpy.run_path({str(app)!r}, run_name='__main__')"
    data = json_from_stdout(run_python(run, timeout=120))
    found = data["findings"]
    assert len(found) == tripwires.TOP_SITES + 1, len(found)
    assert len(json.dumps(found)) < 50_000
    assert found[0]["detail"]["count"] == 3  # the busiest site first
    summary = found[-1]
    assert summary["file"] is None, summary
    assert summary["detail"] == {
        "more_sites": SITES + 1 - tripwires.TOP_SITES,
        "more_calls": SITES + 1 - tripwires.TOP_SITES,
        "total_calls": SITES + 3,
    }, summary
    assert data["stored"] <= tripwires.MAX_SITES


def test_thousands_of_stall_places_give_a_bounded_pk302_report_with_right_totals() -> None:
    stalls = [Stall(0.2, "greenlet g", (), "app.py", n) for n in range(SITES)]
    stalls += [Stall(0.5, "greenlet g", (), "app.py", SITES)]
    found = stall_findings(stalls, 0.1, unstored=(7, 1.4))
    assert len(found) == watch.TOP_PLACES + 1
    assert found[0].line == SITES  # the longest first
    detail = found[-1].detail
    assert detail["more_places"] == SITES + 1 - watch.TOP_PLACES
    assert detail["more_stalls"] == SITES + 1 - watch.TOP_PLACES + 7
    assert detail["total_stalls"] == SITES + 1 + 7
    assert abs(detail["total_s"] - (SITES * 0.2 + 0.5 + 1.4)) < 1e-6


def test_stalls_past_the_cap_are_counted_not_stored() -> None:
    w = watch.Watch(0.1)
    w.stalls = [Stall(0.2, "greenlet g")] * watch.MAX_STALLS
    w._record_stall(None, 10.0, 10.3)  # (origin, start, end)
    w._record_stall(None, 20.0, 20.4)
    assert len(w.stalls) == watch.MAX_STALLS
    assert w.unstored[0] == 2 and abs(w.unstored[1] - 0.7) < 1e-9
    (summary,) = [f for f in w.findings() if "total_stalls" in f.detail]
    assert summary.detail["total_stalls"] == watch.MAX_STALLS + 2
