"""Background work <-> Blender's main thread.

Slow work (engine queries, indexing, pip) runs on other threads; what it has to tell Blender is posted to
a queue that a `bpy.app.timers` callback drains on the main thread within a small time budget per tick,
so bpy data is touched on the main thread only and the UI never waits. Main-thread work that cannot move
to a thread (evaluating a rig over an action) runs as a generator, a few short steps per tick.

In background mode (`blender -b`, the bpy module) timers never fire: callers block in `wait()`, which
drains the same queue in place, so both modes run the same code. (Tests drive the timer path in
background mode by replacing `is_synchronous` and calling `drain()` themselves.)
"""

from __future__ import annotations

import functools
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bpy

# Keep every main-thread step well under a 60 Hz frame (the add-on's target: no step over 30 ms).
TICK_BUDGET_S = 0.008
TICK_INTERVAL_S = 0.01

_inbox: queue.SimpleQueue = queue.SimpleQueue()
_main_tasks: deque = deque()
_jobs: set[Job] = set()
WORKERS = 4


class Job:
    """One piece of work in flight: cancellable, reports progress, finishes on the main thread."""

    def __init__(self, label: str, on_progress: Callable[[float, str], None] | None = None) -> None:
        self.label = label
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self.done = threading.Event()  # set on the main thread when the job ends, just before its callback
        self.on_cancel: Callable[[], None] | None = None  # e.g. tell the engine to drop the request

    @property
    def cancelled(self) -> bool:
        """True once cancel() was called; long work checks this between steps."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the work to stop; its completion callback is skipped and the job ends at the next tick."""
        if not self._cancel.is_set():
            self._cancel.set()
            if self.on_cancel is not None:
                self.on_cancel()
            post(_finish, self, None, None)  # work that never reports back (a cancelled query) still ends

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress from any thread (delivered on the main thread)."""
        if self._on_progress is not None and not self.cancelled:
            post(self.show_progress, fraction, message)

    def show_progress(self, fraction: float, message: str = "") -> None:
        """On the main thread: hand progress to the job's callback unless the job has ended."""
        if self._on_progress is not None and not self.cancelled and not self.done.is_set():
            self._on_progress(fraction, message)

    def finish(self, callback: Callable[[Any], None] | None, value: Any = None) -> None:
        """From any thread: end the job; `callback(value)` runs on the main thread unless it was cancelled."""
        post(_finish, self, callback, value)


def post(fn: Callable[..., Any], *args: Any) -> None:
    """Run `fn(*args)` on the main thread at the next tick (callable from any thread)."""
    _inbox.put((fn, args))


def is_synchronous() -> bool:
    """True where timers never run (background mode), so work is waited for in place."""
    return bool(bpy.app.background)


def begin(label: str, on_progress: Callable[[float, str], None] | None = None) -> Job:
    """A job whose work is done elsewhere (e.g. by the engine's thread), finished by job.finish()."""
    job = Job(label, on_progress)
    _jobs.add(job)
    _wake()
    return job


def start_thread(label: str, work: Callable[[Job], Any], on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None],
                 on_progress: Callable[[float, str], None] | None = None, ends_job: bool = True) -> Job:
    """Run `work(job)` on a new thread; `on_done(result)` or `on_error(exc)` then runs on the main thread.

    With ends_job=False the work hands the job on (e.g. to the engine) and someone else calls job.finish().
    """
    job = begin(label, on_progress)

    def run() -> None:
        try:
            result = work(job)
        except BaseException as exc:  # every failure comes back to the main thread as a message
            job.finish(on_error, exc)
        else:
            if ends_job:
                job.finish(on_done, result)

    _pool().submit(run)
    return job


@functools.cache
def _pool() -> ThreadPoolExecutor:
    # Long-lived workers: starting a thread per job makes the main thread wait for the new thread's
    # first GIL slice, a visible hitch in the UI. Several, so a long indexing job blocks no search.
    # Made on the main thread (start_thread), so the cache needs no lock; unregister() clears it.
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="lavimo")


def start_steps(label: str, steps: Iterator[Any], on_done: Callable[[Any], None],
                on_error: Callable[[BaseException], None],
                on_progress: Callable[[float, str], None] | None = None) -> Job:
    """Run a generator on the main thread, a few `next()` steps per tick; its return value goes to on_done.

    A step that yields a float reports it as progress.
    """
    job = begin(label, on_progress)
    _main_tasks.append((job, steps, on_done, on_error))
    return job


def _finish(job: Job, callback: Callable[[Any], None] | None, value: Any) -> None:
    _jobs.discard(job)
    if job.done.is_set():
        return
    job.done.set()  # before the callback, which may start the next job in the same slot
    if callback is not None and not job.cancelled:
        callback(value)


def _call(fn: Callable[..., Any], args: tuple) -> None:
    try:
        fn(*args)
    except Exception:  # a failing callback must not stop the timer (Blender drops a timer that raises)
        traceback.print_exc()


def _step_main_task() -> None:
    job, steps, on_done, on_error = _main_tasks[0]
    if job.cancelled:
        _main_tasks.popleft()
        steps.close()  # runs the generator's cleanup (e.g. restoring the current frame)
        _finish(job, None, None)
        return
    try:
        value = next(steps)
        if isinstance(value, float):
            job.show_progress(value)
    except StopIteration as stop:
        _main_tasks.popleft()
        _call(_finish, (job, on_done, stop.value))
    except Exception as exc:
        _main_tasks.popleft()
        _call(_finish, (job, on_error, exc))
    else:
        _main_tasks.rotate(-1)  # round-robin between main-thread tasks


def busy() -> bool:
    """True while any job is in flight or anything waits to run on the main thread."""
    return bool(_jobs or _main_tasks or not _inbox.empty())


def drain(budget_s: float = TICK_BUDGET_S) -> float | None:
    """The timer callback: run posted callbacks and main-thread steps for up to `budget_s`."""
    deadline = time.perf_counter() + budget_s
    while time.perf_counter() < deadline:
        try:
            fn, args = _inbox.get_nowait()
        except queue.Empty:
            break
        _call(fn, args)
    while _main_tasks and time.perf_counter() < deadline:
        _step_main_task()
    if not busy():
        return None  # nothing in flight: the timer ends, and the next job starts it again
    return 0.0 if not _inbox.empty() else TICK_INTERVAL_S


def _wake() -> None:
    if not is_synchronous() and not bpy.app.timers.is_registered(drain):
        bpy.app.timers.register(drain, first_interval=0.0)


def wait(job: Job, timeout: float | None = None) -> None:
    """Block until `job` has finished, running its main-thread callbacks here (background mode)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not job.done.is_set():
        if _main_tasks:
            _step_main_task()
            continue
        try:
            fn, args = _inbox.get(timeout=0.05)
        except queue.Empty:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"LAVIMO: {job.label} did not finish within {timeout:.0f} s") from None
            continue
        _call(fn, args)
    # Deliver anything posted just before the end (e.g. thumbnails), so callers see a settled state.
    while not _inbox.empty():
        fn, args = _inbox.get_nowait()
        _call(fn, args)


def cancel_all() -> None:
    """Cancel every job in flight (their completion callbacks are skipped)."""
    for job in list(_jobs):
        job.cancel()
    for job, *_ in _main_tasks:
        job.cancel()


def register() -> None:
    """Nothing to register: the timer starts with the first job."""


def unregister() -> None:
    """Cancel work, drop queued callbacks and stop the timer."""
    cancel_all()
    for _, steps, *_ in _main_tasks:
        steps.close()
    _main_tasks.clear()
    _jobs.clear()
    while not _inbox.empty():
        _inbox.get_nowait()
    if bpy.app.timers.is_registered(drain):
        bpy.app.timers.unregister(drain)
    if _pool.cache_info().currsize:
        _pool().shutdown(wait=False, cancel_futures=True)  # running work sees its job cancelled and stops
        _pool.cache_clear()
