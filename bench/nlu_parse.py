"""Benchmark the embedded NLU: training time, per-parse latency and memory.

Run from the project root: ``python bench/nlu_parse.py``. Loads the sentence
encoder (timed), trains on ``intents/`` (without ``test/``) twice, cold
(importing scikit-learn, encoding every example) and warm, then parses every
example of ``intents/test/`` plus a fixed list of varied messages many times,
end to end with the encoder in. The encoder remembers the last texts it
encoded; it is told to forget before each timed parse, so the figures are the
real work of a new message. Prints the figures (with the share of parses that
asked the encoder, and the resident memory) and writes them to
``bench/results/nlu_parse.json``. Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_import_started = time.perf_counter()
from bot.nlu.embedded import EmbeddedParser  # noqa: E402
from bot.nlu.encoder import default_encoder  # noqa: E402
from bot.nlu.training_data import load_examples, load_training_data  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _import_started

__all__ = ["MESSAGES", "main"]

ROUNDS = 20
RESULTS = ROOT / "bench" / "results" / "nlu_parse.json"

_SHORT = [
    "hi", "hello", "hey there", "good morning", "thanks!", "thank you so much", "bye", "cheers", "yes", "no",
    "yep", "nope", "ok", "sure go ahead", "cancel", "help", "what can you do", "menu", "?", "lol",
    "asdf", "qwerty uiop", "zzzz", "...", "HELP-1234", "help-42", "IT-7 status", "👍", "ty", "k",
]
_ACCOUNTS = [
    "I forgot my password", "reset my outlook password please", "my password expired this morning",
    "pasword reset plz", "need a new pw for kronos", "can you reset my munis password",
    "my account is locked", "locked out of windows again", "too many attempts and now im locked out",
    "unlock my account please", "i cant log in, it says account disabled", "my vpn password doesnt work",
    "forgot my voicemail pin", "locked out of my laptop after vacation", "new hire, never got a password",
    "reset the password for the shared mailbox", "accela keeps rejecting my password",
    "MY ACCOUNT IS LOCKED AND I HAVE A MEETING IN 5 MINUTES", "can u unlok my acount", "temp password for workday",
]
_TICKETS = [
    "my printer is jammed", "the copier on the 3rd floor is broken", "open a ticket for me",
    "outlook keeps crashing when i open attachments", "wifi is super slow in the conference room",
    "my monitor went black", "the S drive is missing", "teams audio doesnt work on my laptop",
    "need a new keyboard", "my phone has no dial tone", "what is the status of HELP-1042",
    "any update on my ticket", "has anyone looked at IT-77 yet", "check my ticket please",
    "is HELP-9 resolved", "i submitted a request last week and heard nothing", "ticket status",
    "whats happening with my laptop repair", "escalate HELP-555", "where is my new monitor",
    "the scanner wont email scans", "my docking station stopped working", "mouse is not working",
    "I need software installed", "can you install adobe acrobat on my pc", "the projector in room 201 wont connect",
    "excel crashes every time i open the budget file", "my computer is very slow", "blue screen again",
    "cannot map the network drive",
]
_HOWTO = [
    "how do i set up out of office in outlook", "how to connect to vpn from home", "how do i share my calendar",
    "how do i map the shared drive", "how to add a printer", "how do i set up mfa on my new phone",
    "how do i change my voicemail greeting", "where do i find the hr forms", "how do i record a teams meeting",
    "how to get on the guest wifi", "how do i forward my desk phone", "how do i use globalprotect",
    "how do i scan to email", "how do i add a signature in outlook", "how do i access email from home",
    "steps to install a printer on a new laptop", "how can i open a shared mailbox", "how to print double sided",
    "how do i approve timesheets in munis", "how to look up a permit in accela",
]
_NOTICES = [
    "is email down?", "is the vpn down right now", "anyone else having trouble with wifi", "is there an outage",
    "are systems down", "is munis down for everyone", "outage status", "internet seems down at city hall",
    "is teams having problems today", "kronos is not loading for anyone",
    "I got a weird email asking for my password", "i think i clicked a phishing link", "report phishing",
    "suspicious email from payroll", "this email looks like a scam", "got a text pretending to be the mayor",
    "someone sent me a fake invoice", "i entered my password on a strange site", "forwarding a spam email",
    "is this email legit",
    "announce to all staff that email will be down tonight", "send an announcement to everyone",
    "post a notice about the maintenance window", "broadcast a message to public works",
    "let everyone know the vpn is back up", "schedule an announcement for monday 8am",
    "notify all users about the outage", "send a message to all departments", "make an announcement",
    "tell the finance team the server is down",
]
_PEOPLE = [
    "talk to a human", "i want a real person", "connect me with a technician", "can i speak to someone",
    "agent please", "this bot is useless, get me a person", "call the helpdesk", "i need a tech to come by",
    "transfer me to support", "human", "who can i call", "can someone come to my desk",
    "what can you help with", "what are your commands", "how does this work", "i need help",
    "show me what you can do", "help me please", "options", "what do you do",
]
_OUT_OF_SCOPE = [
    "what is the weather today", "tell me a joke", "who won the game last night", "order a pizza",
    "what's for lunch", "book a conference room for tomorrow", "what time is it", "when is payday",
    "how many vacation days do i have", "can you approve my leave request", "where is the parking garage",
    "what's the capital of france", "sing me a song", "i like turtles", "are you a robot",
    "how old are you", "what is the meaning of life", "translate hello to spanish",
    "when does the pool open", "is city hall open on saturday",
]
_MIXED = [
    "Good morning! my outlook wont open", "thx, and can you check HELP-77 too?", "no, the other printer",
    "yes please open a ticket for the wifi", "pls reset my pw for munis asap", "is the S: drive down or is it just me",
    "hi i need help with globalprotect", "bye, thanks for the help", "nah nevermind", "got it, thank you!!",
    "reset password for e-mail", "account locked out of kronos", "teams is down again?", "the ricoh wont scan",
    "who do i call about my cell phone", "how do i get into webmail from home", "my voicemail pin doesnt work",
    "i clicked a link in a docusign email and entered my password", "announce: wifi maintenance friday 6pm",
    "Hello?? anyone there",
]
_LONG = [
    "Hi, so this morning when I came in my computer would not let me log in, it kept saying my password was "
    "wrong even though I am sure I typed it right, and now after a few tries it says the account is locked. "
    "Can you please unlock it? I have a council meeting at 10 and need my notes from the shared drive.",
    "hello team, following up on HELP-2031 which I opened last Tuesday about the plotter in engineering. "
    "It is still printing everything with a magenta tint and the vendor says it is a driver issue on our end. "
    "Any update? Thanks",
    "We are seeing intermittent disconnects on the wireless network in the east wing of the public safety "
    "building since about 7am. Dispatch is on wired so they are fine, but the officers' laptops keep dropping. "
    "Is there a known outage or should I open a ticket?",
    "x" * 1500,
    "password " * 200,
    "I received an email that claims to be from the IT department asking me to verify my account by entering "
    "my username and password on a website. The link looks strange (citty-hall-login.example.net). I did not "
    "click it. Where should I send it?",
    "Please send an announcement to all staff: the Munis upgrade is scheduled for Saturday from 6am to 2pm, "
    "during which payroll and purchasing will be unavailable. Save your work Friday evening.",
    "can you tell me how to set up the new VPN client (GlobalProtect) on my home computer, I used to use "
    "AnyConnect but it stopped working after the update last week and I have no idea what the portal address is",
    "thanks so much for fixing the printer yesterday, it works great now! have a good weekend",
    "no thats not what i meant. i dont want to reset anything, i just want to know if my ticket IT-88 got "
    "assigned to someone yet",
]
MESSAGES: list[str] = _SHORT + _ACCOUNTS + _TICKETS + _HOWTO + _NOTICES + _PEOPLE + _OUT_OF_SCOPE + _MIXED + _LONG


def _rss_mb() -> float:
    """Resident set size now (Linux /proc), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> dict[str, object]:
    """Run the benchmark, print the figures and write them as JSON."""
    intents = ROOT / "intents"
    rss_before = _rss_mb()
    encoder_started = time.perf_counter()
    encoder = default_encoder()
    encoder_seconds = time.perf_counter() - encoder_started
    rss_encoder = _rss_mb()
    started = time.perf_counter()
    data = load_training_data(intents)
    loaded = time.perf_counter()
    EmbeddedParser.train(data)  # the first training also imports scikit-learn
    trained_cold = time.perf_counter()
    parser = EmbeddedParser.train(data)
    trained = time.perf_counter()
    test_dir = intents / "test"
    test_texts = [example.text for example in load_examples(test_dir)] if test_dir.exists() else []
    texts = test_texts + MESSAGES
    for text in texts:  # warm-up
        parser.parse_text(text)
    latencies: list[float] = []
    cpu: list[float] = []  # the parse's own CPU time, which other processes on a busy machine do not inflate
    calls_before = parser._model.encoder_calls
    for _ in range(ROUNDS):
        for text in texts:
            if encoder is not None:
                encoder.forget()
            begin, begin_cpu = time.perf_counter_ns(), time.thread_time_ns()
            parser.parse_text(text)
            latencies.append((time.perf_counter_ns() - begin) / 1e6)
            cpu.append((time.thread_time_ns() - begin_cpu) / 1e6)
    encoder_share = (parser._model.encoder_calls - calls_before) / len(latencies)
    figures: dict[str, object] = {
        "train_examples": len(data.examples),
        "intents": len(data.intents),
        "import_seconds": round(IMPORT_SECONDS, 4),
        "encoder": encoder.identity if encoder is not None else None,
        "encoder_load_seconds": round(encoder_seconds, 4),
        "rss_after_encoder_load_mb": round(rss_encoder, 1),
        "load_seconds": round(loaded - started, 4),
        "train_seconds": round(trained - trained_cold, 4),
        "train_seconds_with_sklearn_import": round(trained_cold - loaded, 4),
        "messages": len(texts),
        "parses": len(latencies),
        "median_ms": round(statistics.median(latencies), 4),
        "p95_ms": round(_percentile(latencies, 0.95), 4),
        "p99_ms": round(_percentile(latencies, 0.99), 4),
        "max_ms": round(max(latencies), 4),
        "cpu_median_ms": round(statistics.median(cpu), 4),
        "cpu_p99_ms": round(_percentile(cpu, 0.99), 4),
        "share_asking_encoder": round(encoder_share, 3),
        "rss_mb": round(_rss_mb(), 1),
        "rss_before_training_mb": round(rss_before, 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return figures


if __name__ == "__main__":
    main()
