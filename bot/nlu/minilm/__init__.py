"""Data, no code: the all-MiniLM-L6-v2 sentence encoder (int8 ONNX), its tokenizer and provenance."""
