"""How far to trust the knowledge base's judge: the share of right top hits by confidence band, and how many
questions without a guide still reach each band.

Run from the project root: ``python bench/kb_judge.py``. It searches ``data/kb/`` with every how-to question
of the working sets (``data/kb_eval/dev.jsonl`` and ``data/eval/{dev,fresh,fresh2}/howto.jsonl``; never the
test half) and with ``NO_GUIDE``, how-to questions about things the knowledge base has no guide for, and
prints, for the bands below 0.4, 0.4 to 0.6 and from 0.6, how many top hits fall there and how many are
right. It writes ``bench/results/kb_judge.json``. Nothing is asserted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.integrations.kb import KnowledgeBase  # noqa: E402
from bot.nlu.training_data import load_training_data  # noqa: E402

SETS = ("data/kb_eval/dev.jsonl", "data/eval/dev/howto.jsonl", "data/eval/fresh/howto.jsonl",
        "data/eval/fresh2/howto.jsonl")
BANDS = ((0.0, 0.4), (0.4, 0.6), (0.6, 1.01))
NO_GUIDE = (
    "how do i make a pivot table in excel",
    "how do i export a layer from arcgis pro to a shapefile",
    "how do i sign a pdf with adobe",
    "how do i change the background in teams to the city logo",
    "how do i merge two word documents together",
    "how do i add a chart to powerpoint",
    "how do i use laserfiche to search old permits",
    "how do i set up a recurring invoice in munis",
    "how do i freeze the top row in excel",
    "how do i run the monthly report in the cad system",
    "how do i change my direct deposit",
    "how do i enter overtime for my crew in the timeclock",
    "how do i record a teams meeting",
    "how do i make a fillable form in word",
    "how do i use the label printer for evidence bags",
    "how do i get the body cam footage onto the evidence server",
    "how do i find an old council agenda on the website",
    "how do i scan a document into laserfiche",
    "how do i update the city website events page",
    "how do i add a watermark in word",
)


def main() -> None:
    """Score the bands and write the results."""
    data = load_training_data(ROOT / "intents")
    kb = KnowledgeBase(ROOT / "data" / "kb", synonyms=dict(data.synonyms))
    kb.load()
    bands = {f"{low:.1f}-{min(high, 1.0):.1f}": {"hits": 0, "right": 0, "no_guide": 0} for low, high in BANDS}
    total = 0
    for name in SETS:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            hits = kb.search(pair["question"], limit=1)
            if not hits:
                continue
            total += 1
            band = bands[_band(hits[0].confidence)]
            band["hits"] += 1
            band["right"] += hits[0].article.id == pair["article_id"]
    for question in NO_GUIDE:
        hits = kb.search(question, limit=1)
        if hits:
            bands[_band(hits[0].confidence)]["no_guide"] += 1
    for label, band in bands.items():
        share = band["right"] / band["hits"] if band["hits"] else 0.0
        print(f"confidence {label}: {band['hits']} top hits, {band['right']} right ({share:.0%}); "
              f"{band['no_guide']} of {len(NO_GUIDE)} questions without a guide")
    results = {"questions": total, "no_guide_questions": len(NO_GUIDE), "bands": bands}
    out = ROOT / "bench" / "results" / "kb_judge.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _band(confidence: float) -> str:
    for low, high in BANDS:
        if low <= confidence < high:
            return f"{low:.1f}-{min(high, 1.0):.1f}"
    return f"{BANDS[-1][0]:.1f}-1.0"


if __name__ == "__main__":
    main()
