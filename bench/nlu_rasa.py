"""Rasa 3.6 beside the embedded parser: our dev set (quality, latency, memory) and the public corpora.

Run from the project root after ``make rasa-env``: ``python bench/nlu_rasa.py``.
It serves the cached model of today's ``intents/`` with ``rasa run
--enable-api`` on 127.0.0.1, scores ``intents/test/`` through the Rasa
adapter (any fallback answer is counted, and there should be none), times
each parse over HTTP, reads the server's resident memory, and does the same
for the embedded parser. With ``--corpora`` it also trains a Rasa model on
the train split of each Braun et al. corpus in
``bench/corpora/nlu-evaluation-corpora/`` (cached like the main model) and
scores its test split. Prints the figures and writes
``bench/results/nlu_rasa.json``. Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlu_benchmark import CORPORA_DIR  # noqa: E402
from bot.core.parse import Parser, ParseResult  # noqa: E402
from bot.nlu.corpora import CORPORA, load_corpus  # noqa: E402
from bot.nlu.embedded import EmbeddedParser  # noqa: E402
from bot.nlu.evaluate import score_predictions  # noqa: E402
from bot.nlu.rasa_http import RasaHttpParser  # noqa: E402
from bot.nlu.training_data import load_examples, load_training_data  # noqa: E402
from tests.servers import rasa_live  # noqa: E402

__all__ = ["main"]

RESULTS = ROOT / "bench" / "results" / "nlu_rasa.json"


class Counting:
    """A fallback that answers with the embedded parser and counts how often it had to."""

    name = "embedded"
    ready = True

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.count = 0

    async def parse(self, text: str) -> ParseResult:
        self.count += 1
        return await self.parser.parse(text)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _measure(parser: Parser, texts: list[str]) -> tuple[list[ParseResult], list[float]]:
    results, timings = [], []
    for text in texts:
        started = time.perf_counter()
        results.append(await parser.parse(text))
        timings.append((time.perf_counter() - started) * 1000)
    return results, timings


def _summary(examples: list, results: list[ParseResult], timings: list[float]) -> dict[str, object]:
    report = score_predictions(examples, results)
    ordered = sorted(timings)
    return {"macro_f1": round(report.macro_f1, 4), "micro_f1": round(report.micro_f1, 4),
            "entities_f1": round(report.entities_exact.f1, 4),
            "parse_ms": {"median": round(statistics.median(ordered), 2),
                         "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2)},
            "confusions": [[c.gold, c.predicted, c.count] for c in report.confusions[:8]]}


def _rasa_on(model: Path, examples: list) -> tuple[list[ParseResult], list[float], float, float]:
    """Serve ``model``, parse every example through the adapter; (results, timings, start s, RSS MB)."""
    port = rasa_live.free_port()
    started = time.perf_counter()
    process = rasa_live.serve(model, port)
    startup = time.perf_counter() - started
    try:
        fallback = Counting(EmbeddedParser.train(load_training_data(ROOT / "intents")))
        adapter = RasaHttpParser(f"http://127.0.0.1:{port}", fallback, token=rasa_live.TOKEN, timeout=10)
        texts = [example.text for example in examples]

        async def run() -> tuple[list[ParseResult], list[float]]:
            await _measure(adapter, texts[:20])  # warm up the HTTP session and the model
            measured = await _measure(adapter, texts)
            await adapter.close()
            return measured

        results, timings = asyncio.run(run())
        rss = _rss_mb(process.pid)
    finally:
        rasa_live.stop(process)
    if fallback.count:
        sys.exit(f"Rasa did not answer {fallback.count} parses; see {rasa_live.CACHE / 'rasa-serve.log'}")
    return results, timings, startup, rss


def corpora() -> dict[str, object]:
    """Rasa 3.6 trained and scored on each corpus of Braun et al."""
    found: dict[str, object] = {}
    for name in CORPORA:
        train, test = load_corpus(CORPORA_DIR / f"{name}Corpus.json")
        started = time.perf_counter()
        model = rasa_live.train(train)
        training = time.perf_counter() - started
        results, _, _, _ = _rasa_on(model, test)
        report = score_predictions(test, results)
        found[name] = {"micro_f1": round(report.micro_f1, 4), "macro_f1": round(report.macro_f1, 4),
                       "train_seconds_or_cached": round(training, 1)}
        print(f"rasa on {name}: micro-F1 {report.micro_f1:.3f}, macro-F1 {report.macro_f1:.3f}")
    return found


def main() -> None:
    """Serve Rasa, score both parsers, write the results."""
    model = rasa_live.current_model() if rasa_live.venv_ready() else None
    if model is None:
        sys.exit("no cached Rasa environment and model for today's intents/: run `make rasa-env` first")
    examples = load_examples(ROOT / "intents" / "test" / "nlu.yml")
    texts = [example.text for example in examples]
    embedded = EmbeddedParser.train(load_training_data(ROOT / "intents"))
    rasa_results, rasa_timings, startup, rss = _rasa_on(model, examples)
    embedded_results, embedded_timings = asyncio.run(_measure(embedded, texts))
    figures = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "dev_set": len(examples),
        "rasa": {"version": rasa_live.RASA_VERSION, "model": model.name,
                 "server_start_seconds": round(startup, 1), "server_rss_mb": rss,
                 **_summary(examples, rasa_results, rasa_timings)},
        "embedded": _summary(examples, embedded_results, embedded_timings),
    }
    for name in ("rasa", "embedded"):
        f = figures[name]
        print(f"{name:9} macro-F1 {f['macro_f1']:.3f}  micro-F1 {f['micro_f1']:.3f}  entities F1 "  # type: ignore[index]
              f"{f['entities_f1']:.3f}  parse median {f['parse_ms']['median']} ms, p99 {f['parse_ms']['p99']} ms")  # type: ignore[index]
    print(f"rasa server: start {startup:.1f} s, RSS {rss} MB")
    if "--corpora" in sys.argv:
        figures["rasa_on_corpora"] = corpora()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
