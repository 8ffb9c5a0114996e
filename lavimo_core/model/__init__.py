"""The LAVIMO model: encoders, fusion, decoder, losses, checkpoints, inference (imports torch; load lazily)."""
