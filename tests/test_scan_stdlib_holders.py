"""PK103 for stdlib objects that keep an original: sched.scheduler(time.time, time.sleep).

The scan does not report the stdlib's own modules, by design; but a scheduler made before
patching and held in a user's global keeps the real ``time.sleep`` as its ``delayfunc``, and its
``run()`` stalls the hub. The cause is reported at the global that holds it.
"""

from __future__ import annotations

from tests.scan_helpers import QUIET, STALL, of, run_scan

RUN_SCHEDULER = """
def run_scheduler():
    scan_sched.SCHED.enter(0.3, 1, lambda: None)
    scan_sched.SCHED.run()
out["harm"] = hub_gap(run_scheduler)
"""


def test_scheduler_made_before_patching_stalls_the_hub_and_is_pk103_at_its_global() -> None:
    result = run_scan(before="import scan_sched", harm=RUN_SCHEDULER)
    assert result["harm"]["gap"] >= STALL, result["harm"]
    [found] = of(result, "PK103", "scan_sched")
    assert found["message"].startswith("scan_sched.SCHED.delayfunc is the original time.sleep")
    assert found["line"] == 6 and found["object"] == "time.sleep"


def test_scheduler_made_after_patching_cooperates_and_is_not_reported() -> None:
    result = run_scan(after="import scan_sched", harm=RUN_SCHEDULER)
    assert result["harm"]["gap"] < QUIET, result["harm"]
    assert not [f for f in result["findings"] if f["module"] == "scan_sched"]


def test_pk102_words_a_function_a_factory_and_a_class_each_its_own_way() -> None:
    result = run_scan(before="import scan_factories")
    messages = {f["object"]: f["message"] for f in of(result, "PK102", "scan_factories")}
    assert messages["time.sleep"].endswith(
        "is the original time.sleep, which blocks the hub for the whole call"
    )
    assert messages["threading.Lock"].endswith(
        "is the original threading.Lock, a factory: every object it makes is a real OS lock: "
        "acquire() blocks the hub"
    )
    assert messages["socket.socket"].endswith(
        "is the original socket.socket, a class: every instance is a real OS socket: "
        "its I/O blocks the hub"
    )
