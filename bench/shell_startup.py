"""Benchmark the start-up of ``helpdesk shell --jsonl``: time to the first reply, and peak memory.

Run from the project root with the project's Python: ``python bench/shell_startup.py``
(``--runs N`` to change the number of runs, 5 by default). Each run starts
``helpdesk shell --jsonl`` in a fresh temporary folder with a fresh SQLite
database (so it migrates the schema). The first run has an empty NLU model
cache, so it trains the NLU as a first start after a data change does (the
"cold" figure); the others load the cached model (the everyday "warm" start).
Each run writes ``{"user": "a@city.example", "text": "hi"}`` and measures the wall
time from just before the process is started to the first line it writes. The
peak resident memory of the child is read from ``/proc/<pid>/status`` (VmHWM)
just before its stdin is closed, with ``ru_maxrss`` of the children as a
cross-check. A last run then asks the how-to questions of the working sets
of ``data/eval/`` (not the test half), each from a new employee, and reads the
peak again after the last reply: what a shell that has been in use holds
(``--messages N``, 1,500 by default; 0 skips it). Prints median and max, and
writes them to ``bench/results/shell_startup.json``. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "shell_startup.json"
REQUEST = json.dumps({"user": "a@city.example", "text": "hi"}) + "\n"
HANG_GUARD = 600  # seconds: give up on a run that never answers

__all__ = ["main", "run_once"]


def _helpdesk() -> str:
    """The ``helpdesk`` script next to this Python, or the one on PATH."""
    beside = Path(sys.executable).parent / "helpdesk"
    if beside.exists():
        return str(beside)
    found = shutil.which("helpdesk")
    if found is None:
        sys.exit("helpdesk is not installed: run `pip install -e .[dev]` first")
    return found


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of ``pid`` in MB, from /proc (None when it cannot be read)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError):
        return None
    return None


def _environment(folder: Path, cache_dir: Path) -> dict[str, str]:
    """This process's environment without the desk's settings: a fresh SQLite database in ``folder``, the cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "SLACK_"))}
    env["HELPDESK_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    env["HELPDESK_NLU_CACHE_DIR"] = str(cache_dir)
    return env


def run_once(helpdesk: str, cache_dir: Path) -> dict[str, Any]:
    """One cold start in a fresh folder and database; returns its figures."""
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as folder:
        env = _environment(Path(folder), cache_dir)
        started = time.perf_counter()
        child = subprocess.Popen(
            [helpdesk, "shell", "--jsonl"], cwd=folder, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(REQUEST)
        child.stdin.flush()
        first = child.stdout.readline()
        seconds = time.perf_counter() - started
        peak_mb = _vm_hwm_mb(child.pid)
        child.stdin.close()
        child.stdin = None  # closed: communicate() must not flush it
        try:
            rest, stderr = child.communicate(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            child.kill()
            rest, stderr = child.communicate()
        try:
            reply = json.loads(first) if first else None
        except json.JSONDecodeError:
            reply = None
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": None if peak_mb is None else round(peak_mb, 1),
        "exit_code": child.returncode,
        "answered": bool(reply and reply.get("text")),
        "stderr": stderr.strip()[-500:] if child.returncode else "",
        "extra_lines": len(rest.splitlines()),
    }


def questions(limit: int) -> list[str]:
    """Up to ``limit`` how-to questions of the working sets of data/eval (never the test half)."""
    found = []
    for path in sorted((ROOT / "data" / "eval").glob("*/howto.jsonl")):
        if path.parent.name != "test":
            found += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return found[:limit]


def long_run(helpdesk: str, cache_dir: Path, asked: list[str]) -> dict[str, Any]:
    """A warm start that answers ``asked``, one new employee each; its peak RSS after the last reply."""
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as folder:
        env = _environment(Path(folder), cache_dir)
        child = subprocess.Popen([helpdesk, "shell", "--jsonl"], cwd=folder, env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert child.stdin is not None and child.stdout is not None
        last = "last@city.example"
        lines = [json.dumps({"user": f"e{n}@city.example", "text": text}) + "\n" for n, text in enumerate(asked)]
        lines.append(json.dumps({"user": last, "text": "hi"}) + "\n")

        def write(stdin: Any = child.stdin) -> None:  # in a thread, so that a full stdout pipe cannot stall both
            stdin.writelines(lines)
            stdin.flush()

        writer = threading.Thread(target=write, daemon=True)
        started = time.perf_counter()
        writer.start()
        replies = 0
        for line in child.stdout:
            replies += 1
            if json.loads(line).get("to") == last:
                break
        seconds = time.perf_counter() - started
        peak_mb = _vm_hwm_mb(child.pid)
        child.kill()
        child.wait()
    return {"messages": len(asked), "reply_lines": replies, "seconds": round(seconds, 1),
            "peak_rss_mb": None if peak_mb is None else round(peak_mb, 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and write them as JSON."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=5, help="how many warm starts (default 5)")
    options.add_argument("--messages", type=int, default=1500,
                         help="how-to questions the last run answers before its peak is read (default 1500; 0: none)")
    args = options.parse_args(argv)
    helpdesk = _helpdesk()
    with tempfile.TemporaryDirectory() as cache:
        cold = run_once(helpdesk, Path(cache))
        print(f"cold start (trains the NLU): {cold['seconds']:.2f} s, peak RSS {cold['peak_rss_mb']} MB")
        runs = []
        for number in range(1, args.runs + 1):
            run = run_once(helpdesk, Path(cache))
            runs.append(run)
            print(f"warm run {number}: {run['seconds']:.2f} s to the first reply, peak RSS {run['peak_rss_mb']} MB"
                  + ("" if run["answered"] else f" (no reply; exit {run['exit_code']}: {run['stderr']})"))
        used = long_run(helpdesk, Path(cache), questions(args.messages)) if args.messages else None
        if used:
            print(f"after {used['messages']} how-to questions ({used['seconds']} s): peak RSS {used['peak_rss_mb']} MB")
    seconds = [run["seconds"] for run in runs]
    peaks = [run["peak_rss_mb"] for run in runs if run["peak_rss_mb"] is not None]
    children_max_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    result = {
        "cold_startup_seconds": round(cold["seconds"], 3),
        "cold_peak_rss_mb": cold["peak_rss_mb"],
        "runs": len(runs),
        "median_startup_seconds": round(statistics.median(seconds), 3),
        "max_startup_seconds": round(max(seconds), 3),
        "min_startup_seconds": round(min(seconds), 3),
        "median_peak_rss_mb": round(statistics.median(peaks), 1) if peaks else None,
        "max_peak_rss_mb": round(max(peaks), 1) if peaks else None,
        "children_ru_maxrss_mb": round(children_max_mb, 1),
        "all_answered": all(run["answered"] for run in runs),
        "in_use": used,
        "per_run": runs,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(
        f"warm start-up to first reply: median {result['median_startup_seconds']:.2f} s, "
        f"max {result['max_startup_seconds']:.2f} s; peak RSS median {result['median_peak_rss_mb']} MB, "
        f"max {result['max_peak_rss_mb']} MB (ru_maxrss of children {result['children_ru_maxrss_mb']} MB)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    main()
