"""The embedded NLU on the public benchmark of Braun et al. (2017), beside the published scores.

Run from the project root: ``python bench/nlu_benchmark.py [CORPORA_DIR]``
(default: ``HELPDESK_BENCH_CORPORA``, else the copies in
``bench/corpora/nlu-evaluation-corpora/``). For each of AskUbuntu, WebApplications and
Chatbot it trains the embedded parser on the train split, scores the test
split (micro- and macro-F1 of intents), and times training and each parse
(wall clock, and the CPU time of the parse alone, which other processes on a
busy machine do not inflate).
Prints a table and writes ``bench/results/nlu_benchmark.json``. Nothing is
asserted.

Published intent F1 on the same split (sources in the corpora's README):
LUIS, Watson, Dialogflow (API.ai) and Rasa (2017) from Braun et al. as
extracted by Botfuel; SemHash and TildeCNN from Shridhar et al. (2019);
NLP.js from its benchmarking page. wit.ai is in the paper's text but no
per-corpus figure of it could be found, so it has no column.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu.corpora import CORPORA, load_corpus  # noqa: E402
from bot.nlu.embedded import EmbeddedParser  # noqa: E402
from bot.nlu.encoder import default_encoder  # noqa: E402
from bot.nlu.evaluate import score_predictions  # noqa: E402

__all__ = ["CORPORA_DIR", "PUBLISHED", "main"]

CORPORA_DIR = ROOT / "bench" / "corpora" / "nlu-evaluation-corpora"
"""The corpora of Braun et al., vendored with their licence and checksums (see the README there)."""
RESULTS = ROOT / "bench" / "results" / "nlu_benchmark.json"
ROUNDS = 30

# Intent F1 per corpus; "overall" is pooled over the three test sets.
PUBLISHED: dict[str, dict[str, float]] = {
    "LUIS": {"Chatbot": 0.98, "AskUbuntu": 0.90, "WebApplications": 0.81, "overall": 0.91},
    "Watson": {"Chatbot": 0.97, "AskUbuntu": 0.92, "WebApplications": 0.83, "overall": 0.92},
    "Dialogflow": {"Chatbot": 0.93, "AskUbuntu": 0.85, "WebApplications": 0.80, "overall": 0.87},
    "Rasa (2017)": {"Chatbot": 0.98, "AskUbuntu": 0.86, "WebApplications": 0.74, "overall": 0.88},
    "TildeCNN": {"Chatbot": 0.99, "AskUbuntu": 0.92, "WebApplications": 0.81, "overall": 0.92},
    "SemHash (best)": {"Chatbot": 0.99, "AskUbuntu": 0.93, "WebApplications": 0.85, "overall": 0.93},
    "SemHash (best single run)": {"Chatbot": 1.00, "AskUbuntu": 0.93, "WebApplications": 0.86, "overall": 0.94},
    "NLP.js": {"Chatbot": 0.99, "AskUbuntu": 0.94, "WebApplications": 0.80, "overall": 0.93},
}


def _corpora_dir() -> Path:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("corpora", nargs="?", type=Path,
                         default=Path(os.environ.get("HELPDESK_BENCH_CORPORA") or CORPORA_DIR),
                         help="folder of AskUbuntuCorpus.json, WebApplicationsCorpus.json and ChatbotCorpus.json "
                              "(default: HELPDESK_BENCH_CORPORA, else %(default)s)")
    return options.parse_args().corpora


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_corpus(path: Path) -> dict[str, object]:
    """Train, score and time the embedded parser on one corpus file."""
    train, test = load_corpus(path)
    started = time.perf_counter()
    parser = EmbeddedParser.train(train)
    training = time.perf_counter() - started
    results = [parser.parse_text(example.text) for example in test]
    report = score_predictions(test, results)
    timings, cpu = [], []
    encoder = default_encoder()
    for _ in range(ROUNDS):
        for example in test:
            if encoder is not None:
                encoder.forget()  # its cache of recent texts must not make the figure
            started, started_cpu = time.perf_counter(), time.thread_time()
            parser.parse_text(example.text)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
    return {
        "train": len(train.examples), "test": len(test), "intents": len(train.intents),
        "correct": sum(1 for e, r in zip(test, results, strict=True) if e.intent == r["intent"]["name"]),
        "micro_f1": round(report.micro_f1, 4), "macro_f1": round(report.macro_f1, 4),
        "train_seconds": round(training, 3),
        "parse_ms": {"median": round(statistics.median(timings), 3), "p99": round(_percentile(timings, 0.99), 3),
                     "cpu_p99": round(_percentile(cpu, 0.99), 3)},
        "errors": [{"text": e.text, "gold": e.intent, "predicted": r["intent"]["name"]}
                   for e, r in zip(test, results, strict=True) if e.intent != r["intent"]["name"]],
    }


def main() -> None:
    """Run every corpus, print the comparison and write the results file."""
    folder = _corpora_dir()
    if not folder.is_dir():
        sys.exit(f"no corpora at {folder}: pass the folder of AskUbuntuCorpus.json etc.")
    # Imported once here, so each training time is the training alone.
    import sklearn.feature_extraction.text  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    corpora = {name: run_corpus(folder / f"{name}Corpus.json") for name in CORPORA}
    correct = sum(int(c["correct"]) for c in corpora.values())  # type: ignore[call-overload]
    total = sum(int(c["test"]) for c in corpora.values())  # type: ignore[call-overload]
    overall = round(correct / total, 4)
    columns = [*CORPORA, "overall"]
    print(f"{'':28}" + "".join(f"{name:>17}" for name in columns))
    ours = [f"{c['micro_f1']:.3f} / {c['macro_f1']:.3f}" for c in corpora.values()] + [f"{overall:.3f}"]
    print(f"{'embedded (micro / macro)':28}" + "".join(f"{cell:>17}" for cell in ours))
    for system, scores in PUBLISHED.items():
        print(f"{system:28}" + "".join(f"{scores[name]:>17.2f}" for name in columns))
    best = {name: max(scores[name] for scores in PUBLISHED.values()) for name in columns}
    print("best published          " + "".join(f"{best[name]:>17.2f}" for name in columns))
    for name, corpus in corpora.items():
        print(f"{name}: {corpus['correct']}/{corpus['test']} right, training {corpus['train_seconds']} s, "
              f"parse median {corpus['parse_ms']['median']} ms, p99 {corpus['parse_ms']['p99']} ms "  # type: ignore[index]
              f"(CPU time p99 {corpus['parse_ms']['cpu_p99']} ms)")  # type: ignore[index]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "corpora": corpora, "overall_micro_f1": overall, "published": PUBLISHED, "best_published": best,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
