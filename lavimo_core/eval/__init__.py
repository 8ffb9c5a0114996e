"""Retrieval evaluation: TMR's protocols over text, motion and video embeddings (imports torch via the model)."""
