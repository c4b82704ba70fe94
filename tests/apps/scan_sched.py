"""PK103: a stdlib object made at import keeps the original it was given (its delayfunc)."""

import sched
import time

SCHED = sched.scheduler(time.time, time.sleep)
