"""Inference without torch or transformers: a checkpoint's ONNX encoders on ONNX Runtime, tokenised by `tokenizers`."""
