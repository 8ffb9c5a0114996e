"""The Index Folder operator: BVH files -> a store, on a worker thread, with progress and Cancel."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.types import Operator

from .. import activity, bridge
from ..deps import check
from ..errors import describe
from ..prefs import add_store, addon_prefs, settings
from . import indexer


class LAVIMO_OT_index_folder(Operator):
    """Index a folder of your own BVH files into a store you can search (runs in the background)"""

    bl_idname = "lavimo.index_folder"
    bl_label = "Index Folder"
    bl_options = {'REGISTER'}

    def execute(self, context):
        lib = context.window_manager.lavimo_library
        folder = bpy.path.abspath(lib.folder) if lib.folder else ""
        error = indexer.check_folder(folder)
        if error:
            self.report({'ERROR'}, error)
            return {'CANCELLED'}
        missing = check.missing("index")
        if missing:
            self.report({'ERROR'}, check.missing_message("index", missing))
            return {'CANCELLED'}
        current = settings(context)
        if not current.model_path or not (Path(current.model_path) / "config.json").is_file():
            self.report({'ERROR'}, "No model to encode the motions with: set Preferences > Add-ons > LAVIMO > Model")
            return {'CANCELLED'}
        if activity.current_job("index") is not None:
            self.report({'ERROR'}, "A folder is already being indexed; wait for it or press Cancel")
            return {'CANCELLED'}
        store_path = bpy.path.abspath(lib.store_path) if lib.store_path else indexer.default_store_path(folder)
        outcome = {"message": "", "error": ""}

        def work(job: bridge.Job):
            return indexer.index_folder(folder, store_path, current.model_path, current.device,
                                        progress=job.progress, cancelled=lambda: job.cancelled)

        def done(report) -> None:  # a later tick: bpy.context, not the finished operator's context
            prefs = addon_prefs(bpy.context)
            if prefs is not None:
                add_store(prefs, str(report.path))  # searches go to the new store from now on
            message = f"Indexed {report.added} motions into {report.path}"
            if report.already_present:
                message += f" ({report.already_present} were already there)"
            if report.skipped:
                message += f"; skipped {len(report.skipped)} file(s): " + "; ".join(
                    f"{Path(f).name}: {r}" for f, r in report.skipped[:3])
            outcome["message"] = message
            activity.end("index", job, message)

        def failed(exc: BaseException) -> None:
            outcome["error"] = describe(exc)
            activity.end("index", job, outcome["error"], failed=True)

        job = bridge.start_thread("index", work, done, failed,
                                  on_progress=lambda f, m: activity.progress("index", job, f, m))
        activity.begin("index", job, "Indexing…")
        if not bridge.is_synchronous():
            return {'FINISHED'}
        bridge.wait(job)
        if not outcome["message"]:
            self.report({'ERROR'}, outcome["error"] or "Indexing cancelled")
            return {'CANCELLED'}
        self.report({'INFO'}, outcome["message"])
        return {'FINISHED'}


_classes = (LAVIMO_OT_index_folder,)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
