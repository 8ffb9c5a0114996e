"""Apply options, saved with the scene: root motion, start frame, NLA strip, floor contact, bone-map overrides."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, PointerProperty, StringProperty
from bpy.types import PropertyGroup

ROOT_MODES = [
    ('full', "Full", "Follow the clip's trajectory across the floor (stride scaled to the rig's legs)"),
    ('in_place', "In Place", "Keep the character over its origin (for game loops)"),
    ('locked_heading', "Locked Heading", "Travel, but keep facing the starting direction"),
]


class LAVIMO_PG_bone_override(PropertyGroup):
    """One canonical joint (name) and the bone that plays it; empty bone: detected automatically."""

    bone: StringProperty(name="Bone", description="Bone of the armature that plays this joint")


class LAVIMO_PG_apply(PropertyGroup):
    root_motion: EnumProperty(name="Root Motion", items=ROOT_MODES, default='full')
    use_current_frame: BoolProperty(name="At Current Frame", default=True,
                                    description="Start the keys at the scene's current frame")
    frame_start: IntProperty(name="Start Frame", default=1, description="First frame of the applied keys")
    as_nla_strip: BoolProperty(name="As NLA Strip", default=False,
                               description="Add the motion as an NLA strip instead of replacing the active action")
    floor_contact: BoolProperty(name="Feet on Floor", default=True,
                                description="Keep the feet at the clip's height above the floor")
    handles: IntProperty(name="Handles", default=0, min=0, soft_max=60,
                         description="Also key this many frames before and after a result's range, "
                         "where the motion has them (for blending)")
    full_body: BoolProperty(name="Whole Body from Source", default=True,
                            description="Re-read the clip's source file so the head, hands, fingers and toes turn "
                                        "as in the source (off: only the 22 body joints, by direction)")
    foot_lock: BoolProperty(name="Lock Planted Feet", default=True,
                            description="Where the clip's feet are planted, keep the character's feet still and on "
                                        "the floor (bends the legs and lowers the hips a little where needed)")
    hand_lock: BoolProperty(name="Lock Hands on the Floor", default=True,
                            description="Where the clip puts a hand on the floor, keep the character's hand still "
                                        "and on the floor, never in it (bends the arm, tips the hand up at the wrist)")
    rigify_ik: BoolProperty(name="Rigify: Bake onto IK", default=False,
                            description="On a generated Rigify rig, key the IK hand and foot controls and pole "
                                        "targets and leave the limbs in IK (off: key the FK controls, limbs in FK)")
    bone_overrides: CollectionProperty(type=LAVIMO_PG_bone_override)


def overrides(props: LAVIMO_PG_apply) -> dict[str, str]:
    """The bone-map overrides the user set (joints with a bone chosen)."""
    return {item.name: item.bone for item in props.bone_overrides if item.bone}


_classes = (LAVIMO_PG_bone_override, LAVIMO_PG_apply)
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(_classes)


def register() -> None:
    """Register the options and attach them to scenes."""
    _register_classes()
    bpy.types.Scene.lavimo_apply = PointerProperty(type=LAVIMO_PG_apply)


def unregister() -> None:
    """Detach and unregister."""
    del bpy.types.Scene.lavimo_apply
    _unregister_classes()
