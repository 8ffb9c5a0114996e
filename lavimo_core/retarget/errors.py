"""Errors a user can cause when retargeting (a rig that cannot be mapped, a motion without frames)."""

from ..errors import LavimoError


class RetargetError(LavimoError):
    """Retargeting cannot proceed; the message says what is wrong and what to do."""


class BoneMapError(RetargetError):
    """The rig's bones cannot be matched to enough canonical joints, or an override names a missing bone."""


class EmptyMotionError(RetargetError):
    """The motion has no frames to apply."""
