"""The bridge between worker threads and Blender's main thread, driven the way Blender's timer drives it."""

import threading
import time

import bpy
import pytest

from blender_tests.addon_setup import timer_driven
from lavimo_blender import bridge


@pytest.fixture
def timer_mode(addon):
    """The UI's mode (results arrive through bpy.app.timers), with the test calling drain() as the timer would."""
    with timer_driven():
        yield


def run_timer(until, timeout=20.0):
    """Call bridge.drain() like Blender's timer loop until `until()`; returns how many ticks ran."""
    ticks, deadline = 0, time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out"
        interval = bridge.drain()
        ticks += 1
        time.sleep(interval if interval is not None else 0.01)
    return ticks


def test_thread_results_and_progress_arrive_on_the_main_thread(timer_mode):
    seen = []

    def work(job):
        for i in range(3):
            job.progress(i / 3, f"step {i}")
            time.sleep(0.01)
        return threading.current_thread().name

    job = bridge.start_thread("demo", work, on_done=lambda r: seen.append(("done", r, threading.current_thread())),
                              on_error=pytest.fail,
                              on_progress=lambda f, m: seen.append(("progress", m, threading.current_thread())))
    assert bpy.app.timers.is_registered(bridge.drain)  # started by the job, not polling all the time
    run_timer(lambda: job.done.is_set())
    assert [s[1] for s in seen[:3]] == ["step 0", "step 1", "step 2"]
    assert seen[3][0] == "done" and seen[3][1].startswith("lavimo")  # ran on a worker thread
    assert all(s[2] is threading.main_thread() for s in seen)
    assert bridge.drain() is None  # nothing in flight: the timer stops itself
    assert not bridge.busy()


def test_errors_come_back_as_callbacks_not_crashes(timer_mode):
    errors = []
    job = bridge.start_thread("boom", lambda j: 1 / 0, on_done=pytest.fail, on_error=errors.append)
    run_timer(lambda: job.done.is_set())
    assert isinstance(errors[0], ZeroDivisionError)


def test_a_cancelled_job_ends_without_its_callback(timer_mode):
    release = threading.Event()
    job = bridge.start_thread("slow", lambda j: release.wait(5), on_done=pytest.fail, on_error=pytest.fail)
    job.cancel()
    run_timer(lambda: job.done.is_set())
    release.set()
    time.sleep(0.05)
    bridge.drain()  # the late completion is ignored
    assert not bridge.busy()


def test_main_thread_steps_run_in_short_slices_and_clean_up_on_cancel(timer_mode):
    cleaned = []

    def steps():
        try:
            for i in range(100):
                time.sleep(0.002)
                yield i / 100
            return "finished"
        finally:
            cleaned.append(True)

    results, progress = [], []
    job = bridge.start_steps("steps", steps(), on_done=results.append, on_error=pytest.fail,
                             on_progress=lambda f, m: progress.append(f))
    ticks = run_timer(lambda: job.done.is_set())
    assert results == ["finished"] and cleaned == [True]
    assert ticks >= 100 * 0.002 / bridge.TICK_BUDGET_S  # spread over several ticks, not one long one
    assert progress == sorted(progress) and progress[-1] == 0.99

    cleaned.clear()
    job = bridge.start_steps("steps", steps(), on_done=pytest.fail, on_error=pytest.fail)
    bridge.drain()
    job.cancel()
    run_timer(lambda: job.done.is_set())
    assert cleaned == [True]  # the generator's finally ran (e.g. the current frame restored)


def test_background_mode_waits_in_place():
    assert bridge.is_synchronous()  # the bpy module runs in background mode: no timers
    job = bridge.start_thread("sync", lambda j: 7, on_done=lambda r: None, on_error=pytest.fail)
    bridge.wait(job, timeout=10)
    assert job.done.is_set() and not bpy.app.timers.is_registered(bridge.drain)
