"""Training: data splits, augmented batches, the loop (single process or torchrun/DDP), validation."""
