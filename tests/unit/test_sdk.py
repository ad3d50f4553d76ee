"""``bot.sdk`` is the skills' one door: every name it offers exists, and no skill imports ``bot`` any other way."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.sdk
from bot.core.settings import PROJECT_ROOT

SKILLS = PROJECT_ROOT / "skills"


def _bot_imports(path: Path) -> list[str]:
    """Every module under ``bot`` that ``path`` imports, ``TYPE_CHECKING`` and function-level imports included."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "bot":
            found += [f"bot.{alias.name}" for alias in node.names]  # "from bot import sdk" imports bot.sdk
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return [name for name in found if name == "bot" or name.startswith("bot.")]


def test_every_name_in_all_exists() -> None:
    missing = [name for name in bot.sdk.__all__ if not hasattr(bot.sdk, name)]
    assert not missing, f"bot.sdk.__all__ names what it does not define: {missing}"
    assert len(set(bot.sdk.__all__)) == len(bot.sdk.__all__), "bot.sdk.__all__ names something twice"


def test_skills_import_bot_only_through_the_sdk() -> None:
    modules = sorted(SKILLS.rglob("*.py"))
    assert modules, f"no skills found in {SKILLS}"
    strays = {
        str(path.relative_to(PROJECT_ROOT)): others
        for path in modules
        if (others := [name for name in _bot_imports(path) if name != "bot.sdk"])
    }
    assert not strays, f"skills must import from bot.sdk only: {strays}"


def test_from_bot_import_only_the_sdk(tmp_path: Path) -> None:
    """The check itself sees the forms an import can take, including one under ``TYPE_CHECKING``."""
    module = tmp_path / "skill.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import bot.sdk\n"
        "from bot import sdk, store\n"
        "import bot\n"
        "if TYPE_CHECKING:\n"
        "    from bot.store import Approval\n"
        "def later():\n"
        "    import bot.engine.router\n",
        encoding="utf-8",
    )
    assert sorted(_bot_imports(module)) == ["bot", "bot.engine.router", "bot.sdk", "bot.sdk", "bot.store", "bot.store"]
