"""The "Install dependencies" operator: pip in a subprocess, never blocking the UI, outcome shown in the panel."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy.types import Operator

from .. import activity, bridge
from ..prefs import settings
from . import check, install


def online_allowed() -> bool:
    """Whether the user lets add-ons use the network (Preferences > System > Network; always True before 4.2)."""
    return bool(getattr(bpy.app, "online_access", True))


class LAVIMO_OT_install_dependencies(Operator):
    """Install the pinned packages LAVIMO needs (onnxruntime, tokenizers, mediapipe, av, ...) into this extension's user folder with pip (for platforms without a LAVIMO zip of their own)"""

    bl_idname = "lavimo.install_dependencies"
    bl_label = "Install Dependencies"
    bl_options = {'INTERNAL'}

    # Overridable for tests and unusual setups; empty means the shipped requirements and the extension's folder.
    requirements: StringProperty(options={'HIDDEN', 'SKIP_SAVE'})
    target: StringProperty(options={'HIDDEN', 'SKIP_SAVE'})
    wheel_dir: StringProperty(options={'HIDDEN', 'SKIP_SAVE'})

    def execute(self, context):
        from . import site_packages

        if activity.current_job("deps") is not None:
            self.report({'ERROR'}, "Dependencies are already being installed; wait for it or press Cancel")
            return {'CANCELLED'}
        requirements = Path(self.requirements or install.REQUIREMENTS)
        if not requirements.is_file():
            self.report({'ERROR'}, f"Requirements file not found: {requirements}")
            return {'CANCELLED'}
        wheel_dir = self.wheel_dir or settings(context).wheel_dir
        if wheel_dir and not Path(wheel_dir).is_dir():
            self.report({'ERROR'}, f"Local wheel folder not found: {wheel_dir}; fix it in Preferences > Add-ons > LAVIMO")
            return {'CANCELLED'}
        if not wheel_dir and not online_allowed():
            self.report({'ERROR'}, "Blender is set to work offline, so LAVIMO will not download packages: allow "
                        "Online Access (Preferences > System > Network), or set a Local wheel folder in "
                        "Preferences > Add-ons > LAVIMO")
            return {'CANCELLED'}
        target = Path(self.target) if self.target else site_packages()
        target.mkdir(parents=True, exist_ok=True)
        cmd = install.pip_command(target, requirements, wheel_dir)
        outcome: list[install.InstallOutcome] = []

        def work(job: bridge.Job) -> install.InstallOutcome:
            return install.run_pip(cmd, cancelled=lambda: job.cancelled,
                                   on_line=lambda line: job.progress(0.5, line[:120]))

        def done(result: install.InstallOutcome) -> None:
            outcome.append(result)
            if result.ok:
                install.activate(target)
                still = check.missing()
                note = f"; still missing: {', '.join(still)}" if still else "; restart Blender if a search still fails"
                activity.end("deps", job, result.message + note)
            else:
                activity.end("deps", job, result.message, failed=True)
            print(f"LAVIMO: pip output:\n{result.output}")

        def failed(exc: BaseException) -> None:
            outcome.append(install.InstallOutcome(False, -1, "", f"Install failed: {exc}"))
            activity.end("deps", job, outcome[-1].message, failed=True)

        job = bridge.start_thread("deps", work, done, failed,
                                  on_progress=lambda f, m: activity.progress("deps", job, f, m))
        activity.begin("deps", job, "Installing dependencies with pip…")
        if not bridge.is_synchronous():
            self.report({'INFO'}, "Installing dependencies in the background; the LAVIMO panel shows the outcome")
            return {'FINISHED'}
        bridge.wait(job)
        if not outcome or not outcome[0].ok:
            self.report({'ERROR'}, outcome[0].message if outcome else "Install cancelled")
            return {'CANCELLED'}
        self.report({'INFO'}, outcome[0].message)
        return {'FINISHED'}


_classes = (LAVIMO_OT_install_dependencies,)


# Registers _classes in order and unregisters them in reverse.
register, unregister = bpy.utils.register_classes_factory(_classes)
