"""Data, no code: the static word vectors distilled with model2vec, their tokenizer and config."""
