"""A real Rasa 3.6 server for the adapter's contract tests, built once and cached.

Rasa Open Source 3.6 runs only on Python 3.8 to 3.10, so it gets its own
virtual environment in the cache folder (``HELPDESK_RASA_CACHE``, default
``~/.cache/civic-helpdesk``), next to the trained models, which are keyed by
a fingerprint of the project that ``helpdesk nlu export-rasa`` writes:

    python -m tests.servers.rasa_live build     # venv (minutes, once) and model (minutes, once per intents/ change)
    python -m tests.servers.rasa_live serve     # serve the cached model on 127.0.0.1 until Ctrl-C
    python -m tests.servers.rasa_live record    # re-record tests/data/rasa_replay.json from the real server

The test suite never builds anything: it serves the cached model when it is
there, and otherwise skips the live tests with the reason (a failure under
``HELPDESK_REQUIRE_SERVICES=1`` when Python 3.10 exists, so the environment
could have been built). ``.ci/run`` runs ``build`` first, within a time budget.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.nlu.rasa_export import export_rasa_project, project_fingerprint  # noqa: E402
from bot.nlu.training_data import TrainingData, load_training_data  # noqa: E402

RASA_VERSION = "3.6.21"
CACHE = Path(os.environ.get("HELPDESK_RASA_CACHE") or Path.home() / ".cache" / "civic-helpdesk")
VENV = CACHE / "rasa-venv"
STAMP = VENV / f".rasa-{RASA_VERSION}"
MODELS = CACHE / "rasa-models"
REPLAY = ROOT / "tests" / "data" / "rasa_replay.json"
TOKEN = "contract-test-token"
START_TIMEOUT = 600.0


def python310() -> str | None:
    """A Python 3.10 interpreter: ``HELPDESK_RASA_PYTHON``, pyenv's, or ``python3.10`` on PATH."""
    if os.environ.get("HELPDESK_RASA_PYTHON"):
        return os.environ["HELPDESK_RASA_PYTHON"]
    found = sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.10.*" / "bin" / "python")))
    return found[-1] if found else shutil.which("python3.10")


def rasa() -> Path:
    """The ``rasa`` command of the cached environment."""
    return VENV / "bin" / "rasa"


def venv_ready() -> bool:
    """True once the environment was built completely."""
    return STAMP.exists() and rasa().exists()


def build_venv() -> None:
    """Create the environment and install Rasa (many minutes the first time)."""
    interpreter = python310()
    if interpreter is None:
        raise RuntimeError("no Python 3.10 found (set HELPDESK_RASA_PYTHON); Rasa 3.6 needs 3.8 to 3.10")
    subprocess.run([interpreter, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip", "setuptools<70", "wheel"], check=True)
    subprocess.run([*pip, f"rasa=={RASA_VERSION}"], check=True)
    STAMP.touch()


def export_project(data: TrainingData | None = None) -> tuple[Path, str]:
    """Export ``data`` (default: ``intents/``) into the cache; returns the project folder and its fingerprint."""
    with tempfile.TemporaryDirectory() as scratch:
        export_rasa_project(data or load_training_data(ROOT / "intents"), Path(scratch))
        fingerprint = project_fingerprint(Path(scratch))
        project = CACHE / "rasa-projects" / fingerprint
        if not project.exists():
            shutil.copytree(scratch, project)
    return project, fingerprint


def model_for(fingerprint: str) -> Path:
    """Where the model trained on the project with ``fingerprint`` is kept."""
    return MODELS / f"{fingerprint}.tar.gz"


def current_model() -> Path | None:
    """The cached model of today's ``intents/``, or None when it was not trained yet."""
    _, fingerprint = export_project()
    model = model_for(fingerprint)
    return model if model.exists() else None


def train(data: TrainingData | None = None) -> Path:
    """Train (unless cached) the model of ``data`` (default: today's ``intents/``); returns its path."""
    project, fingerprint = export_project(data)
    model = model_for(fingerprint)
    if model.exists():
        return model
    MODELS.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(rasa()), "train", "nlu", "--config", "config.yml", "--nlu", "data/nlu.yml",
                    "--out", str(MODELS), "--fixed-model-name", fingerprint], cwd=project, check=True,
                   env=_quiet_env())
    return model


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(model: Path, port: int, token: str = TOKEN, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``rasa run --enable-api`` on 127.0.0.1:``port``; returns once it answers."""
    output = open(log or CACHE / "rasa-serve.log", "wb")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [str(rasa()), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
         "--model", str(model), "--auth-token", token],
        cwd=model.parent, stdout=output, stderr=subprocess.STDOUT, env=_quiet_env(),
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", token, process)
    except BaseException:  # also SystemExit from SIGTERM and KeyboardInterrupt: never leave Rasa running
        stop(process)
        raise
    return process


def wait_until_up(url: str, token: str = TOKEN, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until the Rasa server at ``url`` has loaded its model (up to START_TIMEOUT seconds)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"rasa run stopped with status {process.returncode}; see {CACHE / 'rasa-serve.log'}")
        try:
            with urllib.request.urlopen(f"{url}/status?token={token}", timeout=2) as answer:
                if json.load(answer).get("model_file"):
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Rasa at {url} did not answer within {START_TIMEOUT:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by ``serve``."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def parse(port: int, text: str, token: str | None = TOKEN) -> tuple[int, dict[str, object]]:
    """POST /model/parse straight to the server: (status, JSON body)."""
    query = f"?token={token}" if token else ""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/model/parse{query}",
                                     data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def record(port: int, texts: list[str], model: Path) -> dict[str, object]:
    """Real answers for ``texts`` (and for a request without the token), as the replay file stores them."""
    status, refused = parse(port, texts[0], token=None)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=5) as answer:
        version = json.load(answer)
    return {
        "recorded_from": f"rasa run --enable-api, Rasa {version.get('version')}, "
                         "model trained by `rasa train nlu` on `helpdesk nlu export-rasa` of intents/",
        "model": model.name,
        "version": version,
        "unauthorized": {"status": status, "body": refused},
        "responses": {text: parse(port, text)[1] for text in texts},
    }


def _quiet_env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false"}


def main() -> None:
    """``build``, ``serve`` or ``record``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "serve", "record"])
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--model", type=Path, help="serve this model instead of the one of today's intents/")
    args = parser.parse_args()
    if args.command == "build":
        started = time.monotonic()
        if not venv_ready():
            build_venv()
        model = train()
        print(f"model: {model} ({time.monotonic() - started:.0f} s)")
        return
    model = args.model or current_model()
    if not venv_ready() or model is None:
        sys.exit("the Rasa environment or today's model is missing: run `python -m tests.servers.rasa_live build`")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill PID` stops Rasa too
    process = serve(model, args.port)
    try:
        if args.command == "record":
            from tests.contracts.nlu import RECORDED_TEXTS

            REPLAY.parent.mkdir(parents=True, exist_ok=True)
            REPLAY.write_text(json.dumps(record(args.port, RECORDED_TEXTS, model), indent=1, ensure_ascii=False) + "\n",
                              encoding="utf-8")
            print(f"wrote {REPLAY}")
        else:
            print(f"Rasa serves {model.name} at http://127.0.0.1:{args.port} (token {TOKEN}); Ctrl-C stops it")
            process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(process)


if __name__ == "__main__":
    main()
