"""Datasets of canonical motions with captions and splits (Bandai-Namco, HumanML3D/KIT-ML, BVH folders)."""
