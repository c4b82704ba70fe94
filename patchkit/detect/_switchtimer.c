/* The hub watch's per-switch tracer in C (patchkit.detect.watch, PK302).
 *
 * greenlet calls its tracer on every switch. A Python tracer costs a Python call each time,
 * which a busy server pays tens of thousands of times a second; this one does the common cases
 * in a few loads and stores and calls back into Python only when something is worth a look:
 *
 *   - a switch into the hub ends the run that held it: if that run lasted the threshold or
 *     more, record(origin, start) is called (the stall is then confirmed and described there);
 *   - a switch out of the hub while no run is timed starts one (clock read, greenlet kept);
 *   - anything else (a switch between two greenlets, the first hub) goes to slow((origin,
 *     target)), the same Python method the pure-Python tracer uses.
 *
 * The state is readable and writable from Python as a 3-item sequence, exactly like the list
 * the pure-Python tracer uses: [run start (perf_counter() seconds) or None, the greenlet that
 * holds the hub, the hub]. The clock is CPython's own perf counter, so a start read here equals
 * what time.perf_counter() returned at that instant and compares with it directly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    double threshold;
    double start;
    int timing; /* a run is being timed: start is valid */
    PyObject *running;
    PyObject *hub;
    PyObject *record;
    PyObject *slow;
    PyObject *prev;
} SwitchTimer;

static inline double
now_seconds(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyTime_t t;
    (void)PyTime_PerfCounterRaw(&t);
    return PyTime_AsSecondsDouble(t);
#else
    return _PyTime_AsSecondsDouble(_PyTime_GetPerfCounter());
#endif
}

static PyObject *
timer_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    SwitchTimer *self = (SwitchTimer *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "SwitchTimer takes (event, (origin, target))");
        return NULL;
    }
    PyObject *pair = args[1];
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_TypeError, "SwitchTimer takes (event, (origin, target))");
        return NULL;
    }
    PyObject *origin = PyTuple_GET_ITEM(pair, 0);
    PyObject *target = PyTuple_GET_ITEM(pair, 1);

    if (target == self->hub) { /* into the hub: the run that held it ends */
        if (self->timing) {
            double start = self->start;
            self->timing = 0;
            if (now_seconds() - start >= self->threshold) {
                PyObject *when = PyFloat_FromDouble(start);
                if (when == NULL)
                    return NULL;
                PyObject *res = PyObject_CallFunctionObjArgs(self->record, origin, when, NULL);
                Py_DECREF(when);
                if (res == NULL)
                    return NULL;
                Py_DECREF(res);
            }
        }
    }
    else if (!self->timing && origin == self->hub) { /* the hub hands over: a run starts */
        PyObject *old = self->running;
        self->start = now_seconds();
        self->timing = 1;
        Py_INCREF(target);
        self->running = target;
        Py_XDECREF(old);
    }
    else {
        PyObject *res = PyObject_CallOneArg(self->slow, pair);
        if (res == NULL)
            return NULL;
        Py_DECREF(res);
    }
    if (self->prev != Py_None) {
        return PyObject_Vectorcall(self->prev, args, nargs, NULL);
    }
    Py_RETURN_NONE;
}

static int
timer_init(SwitchTimer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"threshold", "record", "slow", "prev", NULL};
    double threshold;
    PyObject *record, *slow, *prev = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "dOO|O", kwlist, &threshold, &record, &slow,
                                     &prev))
        return -1;
    self->threshold = threshold;
    Py_INCREF(record);
    Py_XSETREF(self->record, record);
    Py_INCREF(slow);
    Py_XSETREF(self->slow, slow);
    Py_INCREF(prev);
    Py_XSETREF(self->prev, prev);
    Py_INCREF(Py_None);
    Py_XSETREF(self->running, Py_None);
    Py_INCREF(Py_None);
    Py_XSETREF(self->hub, Py_None);
    self->timing = 0;
    self->start = 0.0;
    self->vectorcall = timer_vectorcall;
    return 0;
}

static PyObject *
timer_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    SwitchTimer *self = (SwitchTimer *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->vectorcall = timer_vectorcall;
    }
    return (PyObject *)self;
}

static int
timer_traverse(SwitchTimer *self, visitproc visit, void *arg)
{
    Py_VISIT(self->running);
    Py_VISIT(self->hub);
    Py_VISIT(self->record);
    Py_VISIT(self->slow);
    Py_VISIT(self->prev);
    return 0;
}

static int
timer_clear(SwitchTimer *self)
{
    Py_CLEAR(self->running);
    Py_CLEAR(self->hub);
    Py_CLEAR(self->record);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->prev);
    return 0;
}

static void
timer_dealloc(SwitchTimer *self)
{
    PyObject_GC_UnTrack(self);
    timer_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t
timer_length(PyObject *self)
{
    return 3;
}

static PyObject *
timer_item(PyObject *op, Py_ssize_t i)
{
    SwitchTimer *self = (SwitchTimer *)op;
    switch (i) {
    case 0:
        if (self->timing)
            return PyFloat_FromDouble(self->start);
        Py_RETURN_NONE;
    case 1:
        return Py_NewRef(self->running ? self->running : Py_None);
    case 2:
        return Py_NewRef(self->hub ? self->hub : Py_None);
    }
    PyErr_SetString(PyExc_IndexError, "SwitchTimer index out of range");
    return NULL;
}

static int
timer_ass_item(PyObject *op, Py_ssize_t i, PyObject *value)
{
    SwitchTimer *self = (SwitchTimer *)op;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "SwitchTimer items cannot be deleted");
        return -1;
    }
    switch (i) {
    case 0:
        if (value == Py_None) {
            self->timing = 0;
            return 0;
        }
        else {
            double start = PyFloat_AsDouble(value);
            if (start == -1.0 && PyErr_Occurred())
                return -1;
            self->start = start;
            self->timing = 1;
            return 0;
        }
    case 1:
        Py_INCREF(value);
        Py_XSETREF(self->running, value);
        return 0;
    case 2:
        Py_INCREF(value);
        Py_XSETREF(self->hub, value);
        return 0;
    }
    PyErr_SetString(PyExc_IndexError, "SwitchTimer index out of range");
    return -1;
}

static PySequenceMethods timer_as_sequence = {
    .sq_length = timer_length,
    .sq_item = timer_item,
    .sq_ass_item = timer_ass_item,
};

static PyObject *
timer_get_prev(SwitchTimer *self, void *closure)
{
    return Py_NewRef(self->prev ? self->prev : Py_None);
}

static PyGetSetDef timer_getset[] = {
    {"prev", (getter)timer_get_prev, NULL, "the tracer this one passes every switch on to", NULL},
    {NULL},
};

static PyTypeObject SwitchTimerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "patchkit.detect._switchtimer.SwitchTimer",
    .tp_doc = PyDoc_STR("SwitchTimer(threshold, record, slow, prev=None): a greenlet tracer "
                        "that times the runs holding the hub"),
    .tp_basicsize = sizeof(SwitchTimer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(SwitchTimer, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_new = timer_new,
    .tp_init = (initproc)timer_init,
    .tp_dealloc = (destructor)timer_dealloc,
    .tp_traverse = (traverseproc)timer_traverse,
    .tp_clear = (inquiry)timer_clear,
    .tp_as_sequence = &timer_as_sequence,
    .tp_getset = timer_getset,
};


/* Heartbeat: lets the watchdog thread sleep without the GIL while nothing needs a look.
 *
 * Each time a thread wakes and takes the GIL, the hub's thread loses it for a moment; measured,
 * a thread doing that 20 times a second cost a busy pywsgi server about 0.35 % of its throughput.
 * The watchdog (patchkit.detect.lag, patchkit.detect.watch) therefore waits in wait(): it wakes
 * every period as before, but only reads a few numbers there, with the GIL released:
 *
 *   - the time of the hub's last tick (beat(), called from the lag probe's hub timer): older than
 *     late_after means the loop is late (a greenlet, a callback or another thread holding it);
 *   - the watch's run (a SwitchTimer's start): running for run_after or more, and not the run
 *     already sampled, means its stack should be copied now;
 *   - every thread's CPU clock (ids given by the caller), kept from the last wake at which the
 *     hub had ticked on time: the baseline that says which thread used the CPU during a stall.
 *
 * It returns to Python (taking the GIL) only for one of those, or after refresh seconds, or when
 * stop() was called. The fields the hub's thread writes (last tick, the run's start) are read
 * here without the GIL: single aligned 8-byte loads, which x86-64 and arm64 never tear; a value
 * read a moment stale only moves a decision to the next wake.
 */
#ifndef _WIN32
#include <time.h>
#endif

#define HEARTBEAT_MAX_CLOCKS 256

typedef struct {
    PyObject_HEAD
    volatile double last; /* perf_counter() of the last beat */
    volatile int stopping;
    Py_ssize_t wakes;     /* every wake-up of wait(), with or without the GIL */
} Heartbeat;

static void
nap(double seconds)
{
#ifdef _WIN32
    Sleep((DWORD)(seconds * 1000.0));
#else
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
#endif
}

static double
thread_cpu(long clock_id)
{
#if !defined(_WIN32) && defined(CLOCK_MONOTONIC)
    struct timespec ts;
    if (clock_gettime((clockid_t)clock_id, &ts) != 0)
        return -1.0; /* the thread has ended */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#else
    return -1.0;
#endif
}

static PyObject *
heartbeat_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Heartbeat *self = (Heartbeat *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->last = now_seconds();
        self->stopping = 0;
        self->wakes = 0;
    }
    return (PyObject *)self;
}

static PyObject *
heartbeat_beat(Heartbeat *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "beat([when])");
        return NULL;
    }
    if (nargs == 1) {
        double when = PyFloat_AsDouble(args[0]);
        if (when == -1.0 && PyErr_Occurred())
            return NULL;
        self->last = when;
    }
    else {
        self->last = now_seconds();
    }
    Py_RETURN_NONE;
}

static PyObject *
heartbeat_stop(Heartbeat *self, PyObject *unused)
{
    self->stopping = 1;
    Py_RETURN_NONE;
}

static PyObject *
heartbeat_wait(Heartbeat *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"period", "refresh", "late_after", "run", "run_after", "sampled",
                             "clocks", NULL};
    double period, refresh, late_after, run_after, sampled;
    PyObject *run, *clocks;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "dddOddO", kwlist, &period, &refresh,
                                     &late_after, &run, &run_after, &sampled, &clocks))
        return NULL;
    SwitchTimer *timer = NULL;
    if (run != Py_None) {
        if (!PyObject_TypeCheck(run, &SwitchTimerType)) {
            PyErr_SetString(PyExc_TypeError, "run must be a SwitchTimer or None");
            return NULL;
        }
        timer = (SwitchTimer *)run;
    }
    PyObject *ids = PySequence_Fast(clocks, "clocks must be a sequence of clock ids");
    if (ids == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(ids);
    if (n > HEARTBEAT_MAX_CLOCKS)
        n = HEARTBEAT_MAX_CLOCKS;
    long clock_ids[HEARTBEAT_MAX_CLOCKS];
    double base[HEARTBEAT_MAX_CLOCKS], cur[HEARTBEAT_MAX_CLOCKS];
    for (Py_ssize_t i = 0; i < n; i++) {
        clock_ids[i] = PyLong_AsLong(PySequence_Fast_GET_ITEM(ids, i));
        if (clock_ids[i] == -1 && PyErr_Occurred()) {
            Py_DECREF(ids);
            return NULL;
        }
    }
    Py_DECREF(ids);
    if (period < 0.001)
        period = 0.001; /* never a busy loop */
    Py_INCREF(run); /* the timer must outlive the wait, which runs without the GIL */

    const char *reason = "refresh";
    double entered, base_time, t;
    Py_BEGIN_ALLOW_THREADS
    entered = now_seconds();
    base_time = entered;
    for (Py_ssize_t i = 0; i < n; i++)
        base[i] = thread_cpu(clock_ids[i]);
    for (;;) {
        nap(period);
        self->wakes++;
        t = now_seconds();
        if (self->stopping) {
            reason = "stopped";
            break;
        }
        if (t - self->last >= late_after) {
            reason = "late";
            break;
        }
        if (timer != NULL && *(volatile int *)&timer->timing) {
            double start = *(volatile double *)&timer->start;
            if (start != sampled && t - start >= run_after) {
                reason = "run";
                break;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++)
            cur[i] = thread_cpu(clock_ids[i]);
        memcpy(base, cur, sizeof(double) * (size_t)n); /* on time: the newest baseline */
        base_time = t;
        if (t - entered >= refresh)
            break;
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(run);

    PyObject *cpu = PyTuple_New(n);
    if (cpu == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyFloat_FromDouble(base[i]);
        if (value == NULL) {
            Py_DECREF(cpu);
            return NULL;
        }
        PyTuple_SET_ITEM(cpu, i, value);
    }
    return Py_BuildValue("(sdNd)", reason, base_time, cpu, t);
}

static PyObject *
heartbeat_get_last(Heartbeat *self, void *closure)
{
    return PyFloat_FromDouble(self->last);
}

static PyObject *
heartbeat_get_wakes(Heartbeat *self, void *closure)
{
    return PyLong_FromSsize_t(self->wakes);
}

static PyMethodDef heartbeat_methods[] = {
    {"beat", (PyCFunction)(void (*)(void))heartbeat_beat, METH_FASTCALL,
     "beat([when]): the hub ran now (or at perf_counter() value when)."},
    {"stop", (PyCFunction)heartbeat_stop, METH_NOARGS, "Make wait() return at its next wake."},
    {"wait", (PyCFunction)(void (*)(void))heartbeat_wait, METH_VARARGS | METH_KEYWORDS,
     "wait(period, refresh, late_after, run, run_after, sampled, clocks) -> (reason, "
     "baseline time, baseline CPU per clock, time of the last wake): sleep without the GIL "
     "until something needs a look ('late', 'run'), refresh seconds passed ('refresh') or "
     "stop() ('stopped'); the GIL is taken after that last wake."},
    {NULL},
};

static PyGetSetDef heartbeat_getset[] = {
    {"last", (getter)heartbeat_get_last, NULL, "perf_counter() of the last beat", NULL},
    {"wakes", (getter)heartbeat_get_wakes, NULL, "how often wait() woke up, in all", NULL},
    {NULL},
};

static PyTypeObject HeartbeatType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "patchkit.detect._switchtimer.Heartbeat",
    .tp_doc = PyDoc_STR("Heartbeat(): the watchdog's GIL-free wait (see wait())"),
    .tp_basicsize = sizeof(Heartbeat),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = heartbeat_new,
    .tp_methods = heartbeat_methods,
    .tp_getset = heartbeat_getset,
};

static PyObject *
perf_counter(PyObject *module, PyObject *unused)
{
    return PyFloat_FromDouble(now_seconds());
}

static PyMethodDef module_methods[] = {
    {"perf_counter", perf_counter, METH_NOARGS,
     "The clock the tracer reads (equal to time.perf_counter())."},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "patchkit.detect._switchtimer",
    .m_doc = "The hub watch's per-switch tracer in C (pure-Python fallback in watch.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__switchtimer(void)
{
    if (PyType_Ready(&SwitchTimerType) < 0 || PyType_Ready(&HeartbeatType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    Py_INCREF(&SwitchTimerType);
    if (PyModule_AddObject(module, "SwitchTimer", (PyObject *)&SwitchTimerType) < 0) {
        Py_DECREF(&SwitchTimerType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&HeartbeatType);
    if (PyModule_AddObject(module, "Heartbeat", (PyObject *)&HeartbeatType) < 0) {
        Py_DECREF(&HeartbeatType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
