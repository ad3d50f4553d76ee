"""Benchmark the test directory servers and one reset through each: how long the fixtures cost.

Run from the project root as root, with slapd and Samba installed:
``python bench/directory_servers.py``. It starts a throwaway slapd (mdb,
ppolicy) and provisions and starts a Samba AD DC exactly as the test
fixtures do, times a password reset through ``LdapDirectory`` on each, stops
them, prints the figures and writes ``bench/results/directory_servers.json``.
Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ldap3 import Connection, Server  # noqa: E402

from bot.core.settings import Settings  # noqa: E402
from bot.integrations.directory import build_directory  # noqa: E402
from tests.servers import directories  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "directory_servers.json"


async def _reset(settings: dict[str, object], email: str) -> float:
    directory = build_directory(Settings(_env_file=None, **settings))  # type: ignore[call-arg]
    started = time.perf_counter()
    account = await directory.find(email)
    assert account is not None
    await directory.reset_password(account, "Bench-7kQ#xRw9Ym")
    return time.perf_counter() - started


def main() -> None:
    """Measure and write the results."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        slapd = directories.start_slapd(Path(folder) / "slapd")
        figures["slapd_start_s"] = time.perf_counter() - started
        try:
            conn = Connection(Server(slapd.url), directories.ROOT_DN, directories.ROOT_PASSWORD, auto_bind=True)
            conn.add(f"uid=ann,{directories.PEOPLE}", ["inetOrgPerson"],
                     {"cn": "Ann", "sn": "ann", "mail": "ann@city.example", "userPassword": directories.USER_PASSWORD})
            conn.unbind()
            figures["openldap_find_and_reset_s"] = asyncio.run(_reset(slapd.settings, "ann@city.example"))
        finally:
            slapd.stop()
        dc = directories.start_samba(Path(folder) / "samba")
        figures["samba_provision_s"] = dc.provision_seconds
        figures["samba_start_s"] = dc.start_seconds
        try:
            dc.tool("user", "create", "ann", directories.USER_PASSWORD, "--mail-address=ann@city.example")
            figures["ad_find_and_reset_s"] = asyncio.run(_reset(dc.settings, "ann@city.example"))
        finally:
            dc.stop()
    for name, value in figures.items():
        print(f"{name:28} {value:7.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"python": platform.python_version(), **{k: round(v, 3) for k, v in
                                                                          figures.items()}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
