"""Run one query for the panel: open the engine on a thread, submit, show the Result on the main thread.

The same path serves the UI (returns at once; the bridge's timer delivers the result) and background
mode (blocks until the result is in the panel's data), so tests and the batch exercise the UI's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import bpy

from .. import activity, bridge, engine_session
from ..errors import describe
from ..prefs import Settings
from . import results
from .props import state

if TYPE_CHECKING:
    from lavimo_core.engine import Result
    from lavimo_core.query import Query


@dataclass
class Outcome:
    """How a query ended, for the operator that started it (filled on the main thread)."""

    finished: bool = False
    cancelled: bool = False
    error: str = ""  # why it failed: the engine's message, or the model/store could not be opened
    result: Result | None = None  # the engine's answer, when it gave one without error


def start(context, settings: Settings, query: Query, label: str, outcome: Outcome | None = None,
          with_thumbnails: bool = True) -> bridge.Job:
    """Start a query; a newer one supersedes it."""
    outcome = outcome if outcome is not None else Outcome()
    warm = engine_session.current()
    warm = warm is not None and warm.key == engine_session.EngineKey(settings.model_path, settings.store_path,
                                                                     settings.device)

    def on_result(result: Result | None) -> None:  # main thread; None: cancelled (e.g. superseded)
        outcome.finished = True
        if result is None:
            outcome.cancelled = True
            activity.end("search", job, "Cancelled")
            return
        if result.error:
            outcome.error = result.error
            activity.end("search", job, result.error, failed=True)
            return
        outcome.result = result
        # bpy.context, not the operator's context: this runs in a later timer tick, after the operator returned.
        results.fill(state(bpy.context), result.hits, settings.store_path, label, result.no_match,
                     result.library_probability)
        message = f"{len(result.hits)} motions in {result.seconds:.2f} s"
        if result.notices:
            message += " (" + "; ".join(result.notices) + ")"
        activity.end("search", job, message)
        session = engine_session.current()
        if with_thumbnails and session is not None and result.hits:
            ids = [h.motion_id for h in result.hits]
            if bridge.is_synchronous():
                thumbs = results.start_thumbnails(session.store, settings.store_path, ids)
                if thumbs is not None:
                    bridge.wait(thumbs)
            else:  # next tick: keep this one (filling the list) short
                bridge.post(results.start_thumbnails, session.store, settings.store_path, ids)

    def on_error(exc: BaseException) -> None:  # main thread
        outcome.finished = True
        outcome.error = describe(exc)
        activity.end("search", job, outcome.error, failed=True)

    def work(job: bridge.Job) -> None:  # worker thread
        if not warm:
            job.progress(0.02, "Loading the model and the store…")
        session = engine_session.open_session(settings.model_path, settings.store_path, settings.device)
        if not job.cancelled:
            session.submit(query, job, settings.top_k, on_result)

    job = bridge.start_thread("search", work, None, on_error, ends_job=False,
                              on_progress=lambda f, m: activity.progress("search", job, f, m))
    activity.begin("search", job, "Searching…" if warm else "Loading the model…")
    return job


def run_blocking(context, settings: Settings, query: Query, label: str, timeout: float | None = None,
                 with_thumbnails: bool = True) -> Outcome:
    """start() and wait for the result in place (background mode, the batch)."""
    outcome = Outcome()
    job = start(context, settings, query, label, outcome, with_thumbnails)
    bridge.wait(job, timeout)
    return outcome
