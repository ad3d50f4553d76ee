"""Benchmark knowledge-base retrieval: quality on the dev set, index build time and answer latency.

Run from the project root: ``python bench/kb_retrieval.py``. It

1. scores ``data/kb_eval/dev.jsonl`` against ``data/kb/`` (hit@1, hit@3, MRR,
   answered rate), for the whole set and for its even lines (the half the
   weights were tuned on) and odd lines (the half kept for checking);
2. writes the 50 real articles plus ~950 generated filler articles (plausible
   city IT guides about other systems) to a temporary folder, times building
   the index of those 1,000 articles (first with every article text to
   encode, then as a restart finds them in the vector cache), and times
   answers (``best``, which is what the how-to skill calls, and ``search``,
   each encoding its question anew) for every dev question;
3. counts how many obviously off-topic questions still get an answer.

It prints the figures and writes them to ``bench/results/kb_retrieval.json``.
Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_import_started = time.perf_counter()
from bot.integrations.kb import KnowledgeBase, evaluate_retrieval, load_pairs  # noqa: E402
from bot.nlu.encoder import default_encoder  # noqa: E402
from bot.nlu.training_data import load_training_data  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _import_started

__all__ = ["OFF_TOPIC", "main", "write_filler"]

ARTICLES = 1000
ROUNDS = 5
SEED = 20260930
RESULTS = ROOT / "bench" / "results" / "kb_retrieval.json"

OFF_TOPIC = [
    "how do i calibrate the plotter in the gis lab", "how do i enroll in dental", "what's the capital of peru",
    "how do i reserve a city vehicle from the motor pool", "where do i park at city hall",
    "how do i file a workers comp claim", "who do i talk to about a pothole on main street",
    "how do i book the community center for a birthday party", "what's the weather tomorrow", "tell me a joke",
    "how do i make sourdough bread", "the faucet in the break room is leaking", "how do i order business cards",
    "the ice machine in the break room is broken", "how do i renew my commercial drivers license",
    "how do i sign up for the 457 retirement plan", "where can i get a flu shot",
    "how do i submit a purchase order for office supplies", "how do i make a map in arcgis pro",
    "how do i write a grant application", "the thermostat in my office is too cold",
    "how do i get a parking permit for the garage", "when does the fire academy start",
    "who won the game last night", "how do i write a vlookup formula in excel",
    "how do i translate a flyer into spanish", "how do i cancel my gym membership",
    "where is the nearest post office", "how do i register to vote", "how do i appeal my performance review",
    "can you recommend a good lunch place downtown", "how many vacation days do i have left",
    "what is the dress code for council meetings", "how do i get my car washed at the fleet yard",
    "how do i request a sign language interpreter", "the elevator is stuck on the third floor",
    "how do i adopt a dog from the animal shelter", "what time does the library close",
    "how do i train my new puppy", "how do i fill out a fmla form",
]

# -- filler articles -------------------------------------------------------------------------------

_SYSTEMS = [
    ("Laserfiche", "document management", "website"), ("CityWorks", "work orders", "erp"),
    ("ArcGIS Pro", "maps and GIS layers", "computer"), ("NeoGov", "hiring and job postings", "website"),
    ("Legistar", "council agendas and minutes", "website"), ("Granicus", "meeting video streaming", "website"),
    ("Axon Evidence", "body camera video", "mdt"), ("CentralSquare CAD", "dispatch records", "mdt"),
    ("OpenGov", "budget planning", "erp"), ("SeeClickFix", "resident service requests", "website"),
    ("Bluebeam", "plan review markups", "permitting"), ("AutoCAD", "engineering drawings", "computer"),
    ("DocuSign", "electronic signatures", "outlook"), ("Cisco Jabber", "softphone calls", "phone"),
    ("ServiceNow", "facility service requests", "website"), ("Kofax", "batch scanning", "printer"),
    ("Tyler Incode", "municipal court cases", "erp"), ("RecTrac", "recreation class registration", "website"),
    ("Paymentus", "utility bill payments", "erp"), ("Lucity", "water and sewer assets", "erp"),
    ("FleetFocus", "fleet maintenance", "erp"), ("Questica", "budget request forms", "erp"),
    ("PowerDMS", "policy acknowledgements", "website"), ("Everbridge", "emergency notifications", "phone"),
    ("Smartsheet", "project tracking", "website"), ("Power BI", "dashboards", "website"),
    ("Tableau", "performance reports", "website"), ("Salesforce", "constituent cases", "website"),
    ("Trimble", "GPS survey data", "computer"), ("Cartegraph", "pavement ratings", "erp"),
    ("Telestaff", "fire shift staffing", "erp"), ("Laserfiche Forms", "online forms", "website"),
    ("Spillman", "police records", "mdt"), ("Hansen", "utility billing accounts", "erp"),
    ("Esri Field Maps", "field data collection", "computer"), ("Nuance PowerScribe", "dictation", "computer"),
    ("Zoom Rooms", "large room video conferencing", "teams"), ("Adobe Acrobat Pro", "PDF editing", "computer"),
    ("Microsoft Access", "department databases", "computer"), ("Crystal Reports", "scheduled reports", "erp"),
]
_ACTIONS = [
    ("Request access to {s}", "request access", ["how do i get access to {s}", "who approves {s} accounts"]),
    ("Reset your {s} password", "password reset", ["forgot my {s} password", "{s} says my password expired"]),
    ("Export a report from {s}", "export report", ["how do i export {s} data to excel", "download a {s} report"]),
    ("Fix a blank or frozen screen in {s}", "blank screen", ["{s} shows a white page", "{s} is frozen"]),
    ("Install {s} on a city computer", "install", ["how do i install {s}", "{s} is not in software center"]),
    ("Print from {s}", "printing", ["print a record from {s}", "{s} printout is cut off"]),
    ("Share a record in {s} with a coworker", "sharing", ["share a {s} record", "coworker cant see my {s} item"]),
    ("Update your profile and notifications in {s}", "profile", ["change my email alerts in {s}",
                                                                   "update my title in {s}"]),
    ("Upload documents to {s}", "upload", ["attach a pdf in {s}", "{s} upload fails"]),
    ("Use {s} on a tablet in the field", "mobile", ["{s} on my ipad", "{s} app wont sync in the field"]),
    ("Search for a record in {s}", "search", ["find an old record in {s}", "{s} search returns nothing"]),
    ("Approve items in {s} as a supervisor", "approvals", ["approve requests in {s}", "{s} approval queue"]),
    ("Fix slow performance in {s}", "performance", ["{s} is really slow", "{s} keeps timing out"]),
    ("Archive old records in {s}", "retention", ["archive closed items in {s}", "{s} retention rules"]),
    ("Understand common error messages in {s}", "errors", ["{s} error code", "{s} says session expired"]),
    ("Set up {s} alerts on your phone", "alerts", ["{s} notifications on my phone", "turn off {s} texts"]),
    ("Merge duplicate records in {s}", "duplicates", ["two copies of the same record in {s}",
                                                      "merge {s} duplicates"]),
    ("Schedule a recurring report in {s}", "scheduling", ["email me a {s} report every monday",
                                                          "stop a scheduled {s} report"]),
    ("Attach photos to a {s} record", "photos", ["add pictures to {s}", "{s} photo too large"]),
    ("Recover a deleted item in {s}", "recovery", ["deleted something in {s} by mistake", "undo in {s}"]),
    ("Train new staff on {s}", "training", ["{s} training for a new hire", "where are the {s} videos"]),
    ("Connect {s} to Outlook", "integration", ["{s} calendar in outlook", "{s} emails not arriving"]),
    ("Change the department or cost center in {s}", "department", ["move my {s} account to a new department",
                                                                    "wrong cost center in {s}"]),
    ("Sign in to {s} with single sign-on", "sign in", ["{s} sign in loop", "{s} keeps asking me to log in"]),
]
_STEPS = [
    "Open Edge or Chrome on a city computer and go to the {s} link on the intranet.",
    "Sign in with your city email address and approve the MFA prompt if asked.",
    "Click the menu in the top-left corner and choose **{a}**.",
    "Pick the date range or record type you need, then click **Apply**.",
    "Wait for the page to finish loading; large searches can take a minute.",
    "Click **Save**. A green banner confirms the change.",
    "If a pop-up is blocked, allow pop-ups for the {s} site in the address bar.",
    "Close the browser completely and open {s} again if the page looks wrong.",
    "Choose **Export** and pick Excel or PDF.",
    "Ask your supervisor to approve the request in the approvals queue.",
    "Select the record, click **More**, then **History** to see earlier versions.",
    "From home, connect to the City VPN before opening {s}.",
    "On a tablet, open the {s} app, pull down to sync, and wait for the check mark.",
    "Type at least three letters of the name or number in the search box.",
    "Tick the box next to each item and click **Approve** or **Return** with a note.",
    "Drag the file onto the **Attachments** area, or click **Browse** to pick it.",
    "Set the schedule to daily, weekly or monthly and add the people to email.",
    "Check the status column; items in **Draft** are not yet visible to others.",
]
_NOTES = [
    "{s} is maintained by the vendor; outages are posted on the IT status page.",
    "Records in {s} are public records and follow the city retention schedule.",
    "Access to {s} is reviewed every year by each department's data owner.",
    "Training videos for {s} are on the intranet under IT help.",
    "Do not share your {s} account; every change is logged with your name.",
    "Some {s} features only work in Edge or Chrome.",
    "Large exports from {s} run in the background and arrive by email.",
]


def _filler(number: int, rng: random.Random) -> tuple[str, str]:
    """One generated article: (file name, text)."""
    system, purpose, canonical = _SYSTEMS[number % len(_SYSTEMS)]
    title_t, keyword, question_t = _ACTIONS[(number // len(_SYSTEMS)) % len(_ACTIONS)]
    title = title_t.format(s=system)
    slug = "-".join(part for part in "".join(c if c.isalnum() else " " for c in title.lower()).split())
    article_id = f"filler-{number:04d}-{slug}"[:80]
    steps = rng.sample(_STEPS, rng.randint(5, 8))
    notes = rng.sample(_NOTES, 3)
    questions = [q.format(s=system.lower()) for q in question_t] + [f"how do i {title[0].lower()}{title[1:]}"]
    body = [
        f"{system} is the city's system for {purpose}. This guide explains how to "
        f"{title[0].lower()}{title[1:]} and what to check when it does not work.",
        "",
        "## Steps",
        *[f"{i}. {step.format(s=system, a=keyword.title())}" for i, step in enumerate(steps, start=1)],
        "",
        "## Good to know",
        *[f"- {note.format(s=system)}" for note in notes],
        "",
        "## If it still does not work",
        f"Ask the helpdesk bot to open a ticket that names {system} and includes a screenshot of the message.",
    ]
    front = [
        "---",
        f"id: {article_id}",
        f"title: {title}",
        f"tags: [{system.lower()}, {keyword}, {purpose}]",
        f"systems: [{canonical}]",
        "questions:",
        *[f"  - {json.dumps(q)}" for q in questions],
        "audience: all staff",
        "---",
    ]
    return f"{article_id}.md", "\n".join(front + body) + "\n"


def write_filler(folder: Path, count: int, seed: int = SEED) -> int:
    """Copy the real articles into ``folder`` and add generated ones up to ``count``; return how many."""
    folder.mkdir(parents=True, exist_ok=True)
    real = sorted((ROOT / "data" / "kb").glob("*.md"))
    for path in real:
        shutil.copy(path, folder / path.name)
    rng = random.Random(seed)
    for number in range(max(0, count - len(real))):
        name, text = _filler(number, rng)
        (folder / name).write_text(text, encoding="utf-8")
    return len(list(folder.glob("*.md")))


# -- measuring -------------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _quality(kb: KnowledgeBase, pairs: list[tuple[str, str]]) -> dict[str, float | int]:
    report = evaluate_retrieval(kb, pairs)
    return {"count": report.count, "hit_at_1": round(report.hit_at_1, 4), "hit_at_3": round(report.hit_at_3, 4),
            "mrr": round(report.mrr, 4), "answered": round(report.answered, 4),
            "answered_correctly": round(report.answered_correctly, 4)}


def _latencies(call, questions: list[str]) -> list[float]:
    for question in questions:  # warm-up
        call(question)
    samples = []
    for _ in range(ROUNDS):
        for question in questions:
            begin = time.perf_counter_ns()
            call(question)
            samples.append((time.perf_counter_ns() - begin) / 1e6)
    return samples


def main() -> dict[str, object]:
    """Run the benchmark, print the figures and write them as JSON."""
    synonyms = load_training_data(ROOT / "intents").synonyms
    pairs = load_pairs(ROOT / "data" / "kb_eval" / "dev.jsonl")
    questions = [question for question, _expected in pairs]

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        folder = Path(tmp)
        articles = write_filler(folder, ARTICLES)
        big = KnowledgeBase(folder, synonyms=synonyms, cache_dir=Path(tmp) / "vectors")
        started = time.perf_counter()
        big.load()  # the first build encodes every article text and fills the stemmer's cache
        build_cold = time.perf_counter() - started
        builds = []
        for _ in range(3):
            started = time.perf_counter()
            big.load()
            builds.append(time.perf_counter() - started)
        encoder = default_encoder()
        forget = encoder.forget if encoder is not None else (lambda: None)
        # The encoder remembers recent texts: it forgets before each answer so each question is encoded anew.
        best_ms = _latencies(lambda q: (forget(), big.best(q)), questions)
        search_ms = _latencies(lambda q: (forget(), big.search(q, limit=3)), questions)
        quality_big = _quality(big, pairs)
        big_errors = len(big.errors)

    kb = KnowledgeBase(ROOT / "data" / "kb", synonyms=synonyms)
    kb.load()
    quality = {"all": _quality(kb, pairs), "tuning_half_even_lines": _quality(kb, pairs[0::2]),
               "check_half_odd_lines": _quality(kb, pairs[1::2])}
    off_topic_answered = [q for q in OFF_TOPIC if kb.best(q) is not None]

    figures: dict[str, object] = {
        "dev_questions": len(pairs),
        "dev_articles": len(kb.articles),
        "dev": quality,
        "off_topic_questions": len(OFF_TOPIC),
        "off_topic_answered": len(off_topic_answered),
        "off_topic_answered_list": off_topic_answered,
        "bench_articles": articles,
        "bench_load_errors": big_errors,
        "import_seconds": round(IMPORT_SECONDS, 4),
        "index_build_seconds_first": round(build_cold, 4),
        "index_build_seconds_median": round(statistics.median(builds), 4),
        "answers_timed": len(best_ms),
        "best_p50_ms": round(statistics.median(best_ms), 4),
        "best_p95_ms": round(_percentile(best_ms, 0.95), 4),
        "best_p99_ms": round(_percentile(best_ms, 0.99), 4),
        "best_max_ms": round(max(best_ms), 4),
        "search_p50_ms": round(statistics.median(search_ms), 4),
        "search_p99_ms": round(_percentile(search_ms, 0.99), 4),
        "dev_with_1000_articles": quality_big,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        if isinstance(value, dict) and key == "dev":
            for half, numbers in value.items():
                print(f"{'dev ' + half:<{width}}  {numbers}")
        else:
            print(f"{key:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return figures


if __name__ == "__main__":
    main()
