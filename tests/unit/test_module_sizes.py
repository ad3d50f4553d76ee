"""No module of bot/ or skills/ grows past 500 lines (issue 16): a module that long holds more than one job."""

from __future__ import annotations

from bot.core.settings import PROJECT_ROOT

LIMIT = 500


def test_no_module_is_over_500_lines() -> None:
    sizes = {path.relative_to(PROJECT_ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for folder in ("bot", "skills") for path in (PROJECT_ROOT / folder).rglob("*.py")}
    assert len(sizes) > 100
    assert {name: lines for name, lines in sizes.items() if lines > LIMIT} == {}
