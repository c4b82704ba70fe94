"""An idle hub for one second: how often the probe wakes."""

import gevent
from lag_harness import emit, run

emit(run(lambda: gevent.sleep(1.0))[1])
