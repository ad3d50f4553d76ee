"""Split the evaluation data into a dev half and a test half, at random but reproducibly.

    python scripts/split_eval.py CONVERSATIONS.yml... --howto HOWTO.jsonl... [--out data/eval] [--seed 14]

Conversations are stratified by the skill their name starts with ("howto: ...",
"ticket: ..."), how-to questions by their article, so each half holds about
half of every kind. Each conversation keeps its text exactly as written. Run
over ``data/eval/dev`` and ``data/eval/test`` together, it writes the same
halves again.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from pathlib import Path

SEED = 14
_BLOCK_START = re.compile(r"^- name:", re.MULTILINE)
_NAME = re.compile(r"^- name:\s*\"?(?P<name>[^\"\n]+)\"?", re.MULTILINE)


def conversation_blocks(path: Path) -> list[tuple[str, str]]:
    """The ``(name, text)`` of each conversation in a YAML file, its text as written."""
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in _BLOCK_START.finditer(text)] + [len(text)]
    blocks = []
    for begin, end in zip(starts, starts[1:], strict=False):
        block = text[begin:end].strip() + "\n"
        match = _NAME.match(block)
        if match is None:
            raise SystemExit(f"{path}: a conversation without a name at offset {begin}")
        blocks.append((match.group("name").strip(), block))
    return blocks


def halves(items: list[tuple[str, str]], stratum_of: dict[str, str], seed: int) -> tuple[list[str], list[str]]:
    """Split ``(key, payload)`` items in two halves, per stratum at random; odd leftovers go to the smaller half."""
    by_stratum: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, payload in sorted(items):
        by_stratum[stratum_of[key]].append((key, payload))
    rng = random.Random(seed)
    dev: list[str] = []
    test: list[str] = []
    for stratum in sorted(by_stratum):
        chosen = by_stratum[stratum]
        rng.shuffle(chosen)
        cut = len(chosen) // 2
        if len(chosen) % 2 and len(dev) <= len(test):
            cut += 1
        dev.extend(payload for _, payload in chosen[:cut])
        test.extend(payload for _, payload in chosen[cut:])
    return dev, test


HEADER = ("# {half} half of the conversation tests (issue 14). Written from scratch in city staff's wording;\n"
          "# split from the whole set by scripts/split_eval.py. See data/eval/README.md before you touch it.\n\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("conversations", nargs="+", type=Path, help="YAML files of conversations")
    parser.add_argument("--howto", nargs="+", type=Path, default=[], help="JSONL files of how-to questions")
    parser.add_argument("--out", type=Path, default=Path("data/eval"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    blocks = [block for path in args.conversations for block in conversation_blocks(path)]
    names = [name for name, _ in blocks]
    if len(set(names)) != len(names):
        raise SystemExit("conversation names must be unique")
    strata = {name: name.split(":", 1)[0].strip() for name in names}
    dev, test = halves(blocks, strata, args.seed)

    questions = [json.loads(line) for path in args.howto
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [(q["question"], json.dumps({"question": q["question"], "article_id": q["article_id"]},
                                        ensure_ascii=False)) for q in questions]
    articles = {q["question"]: q["article_id"] for q in questions}
    howto_dev, howto_test = halves(lines, articles, args.seed)

    for half, conversations, howto in (("dev", dev, howto_dev), ("test", test, howto_test)):
        folder = args.out / half
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "conversations.yml").write_text(HEADER.format(half=half.capitalize())
                                                  + "\n".join(conversations), encoding="utf-8")
        if howto:
            (folder / "howto.jsonl").write_text("\n".join(howto) + "\n", encoding="utf-8")
        print(f"{folder}: {len(conversations)} conversations, {len(howto)} how-to questions")


if __name__ == "__main__":
    main()
