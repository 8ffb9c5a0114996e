"""Canonical motion: the 22-joint HumanML3D skeleton, its 263-dim features, and import from files."""
