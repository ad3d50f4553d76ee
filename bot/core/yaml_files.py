"""Reading YAML fast: libyaml's C parser when PyYAML was built with it (it is on every common platform),
the pure-Python one otherwise. Start-up reads every intent file and every article's front matter."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["SAFE_LOADER", "safe_load"]

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""The safe loader to hand to ``yaml.compose`` or ``yaml.load``: the C one when available."""


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the fastest safe loader."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
