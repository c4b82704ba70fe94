"""The probe process: apply a profile first, then measure one library and print the result.

``python -m compat_tests._probe PROFILE LIBRARY PEERS_JSON``. Each measurement gets a fresh
interpreter because patches, psycogreen's wait callback, grpc's ``init_gevent()`` and leftover
pool threads are process-wide; the suite kills a probe that hangs. Progress goes to stderr so a
killed probe still tells which phase hung.
"""

from __future__ import annotations

import json
import os
import sys

MARKER = "PATCHKIT-COMPAT-RESULT "


def _phase(name: str) -> str:
    print(f"phase: {name}", file=sys.stderr, flush=True)
    return name


def main(argv: list[str]) -> None:
    profile, library, peers = argv[0], argv[1], json.loads(argv[2])
    import patchkit

    patchkit.apply(profile)  # before anything the library could capture

    from compat_tests import N_WAITS, WAIT_S
    from compat_tests._measure import describe, measure
    from compat_tests.cases import CASES, Context, load_all

    load_all()
    case = CASES[library]
    phase = ""
    try:
        phase = _phase("setup")
        wait = case.setup(Context(peers=peers, n=N_WAITS, wait_s=WAIT_S))
        phase = _phase("measure")
        result = measure(wait, case.what, case.mode)
    except BaseException as exc:  # LoopExit derives from BaseException in some gevent versions
        result = {"outcome": "broken", "factor": None, "max_stall_s": None,
                  "detail": f"{describe(exc)} (during {phase}: {case.what})"}  # fmt: skip
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    # Leftover pool workers, grpc or zmq threads must not keep the probe alive.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
