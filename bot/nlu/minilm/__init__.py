"""Data, no code: the all-MiniLM-L6-v2 sentence encoder (fp32 ONNX), its tokenizer and provenance."""
