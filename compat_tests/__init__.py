"""The compatibility suite: how popular libraries behave under each patchkit profile.

Run once per profile: ``python -m patchkit run --profile P -m pytest compat_tests``.
"""

N_WAITS = 10  # concurrent waits per measurement
WAIT_S = 0.2  # how long the other side makes each wait last
