"""Adds the turns trainers labelled (`ycc training export-nlu`, then rewritten by hand) to the NLU training data.

`make nlu-import REVIEWED=<file>` runs `stage`, then `make crossval` (the twin check and the cross-validation gate),
then `keep`; if the gate fails it runs `undo`, so the examples land only when the bot did not get worse.

`stage` refuses the whole file, writing nothing, when an item
- names an intent the bot's domain (bot/domain) does not have,
- still holds a mask placeholder (［名前］, ［地名］ …) or a character Rasa's YAML would read as markup ([ ] { }),
- is a twin (tests/bot/check_nlu_twins.py's normal form) of an example of another intent (a contradiction to
  resolve first), or of a dev-set message or a persona line (those must stay unseen: tests/bot/nlu_dev,
  tests/e2e/personas);
and skips, with a note, an item that is a twin of an example of the same intent (nothing to learn).
Accepted items go to bot/data/nlu/reviewed.yml (one block per intent); the previous file is kept for `undo`.

Usage: python tests/bot/import_reviewed.py stage FILE | keep | undo
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_nlu_twins import Example, load_examples, normalise
from nlu_eval import persona_lines

ROOT = Path(__file__).resolve().parents[2]
NLU, DOMAIN = ROOT / "bot" / "data" / "nlu", ROOT / "bot" / "domain"
TARGET = NLU / "reviewed.yml"
BACKUP = ROOT / "var" / "nlu-reviewed.backup.yml"
NONE = ROOT / "var" / "nlu-reviewed.none"  # marks "there was no reviewed.yml before"
DEV, PERSONAS = ROOT / "tests" / "bot" / "nlu_dev", ROOT / "tests" / "e2e" / "personas" / "personas.yml"
PLACEHOLDER = re.compile(r"［[^］]*］|[\ue000-\uf8ff]")
MARKUP = re.compile(r"[\[\]{}]")
HEADER = ("# Examples from real turns that trainers labelled on the review page (docs/trainers.md), masked and\n"
          "# rewritten by hand; added by `make nlu-import`. Edit like any other NLU file.\n")


def domain_intents() -> set[str]:
    names: set[str] = set()
    for path in DOMAIN.glob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            names.add(item if isinstance(item, str) else next(iter(item)))
    return names


def read_items(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SystemExit(f"{path}: expected `items:` as `ycc training export-nlu` writes it")
    return items


def check(items: list[dict[str, Any]], known: set[str], train: list[Example],
          unseen: list[Example]) -> tuple[list[Example], list[str], list[str]]:
    """(accepted, problems, notes)."""
    trained = {normalise(e.text): e for e in train}
    held_out = {normalise(e.text): e for e in unseen}
    accepted: dict[str, Example] = {}
    problems, notes = [], []
    for n, item in enumerate(items, 1):
        text = " ".join(str(item.get("text") or "").split()) if isinstance(item, dict) else ""
        intent = str(item.get("intent") or "") if isinstance(item, dict) else ""
        where = f"item {n}"
        if not text or intent not in known:
            problems.append(f"{where}: needs a text and an intent of the bot (got intent {intent!r})")
        elif PLACEHOLDER.search(text) or MARKUP.search(text):
            problems.append(f"{where}: rewrite the placeholders and brackets first")
        elif (form := normalise(text)) in held_out:
            problems.append(f"{where}: a twin of a dev-set or persona message ({Path(held_out[form].file).name}); "
                            "those must stay unseen — drop it")
        elif form in trained and trained[form].intent != intent:
            e = trained[form]
            problems.append(f"{where}: contradicts {e.text!r} ({e.intent}, {Path(e.file).name}); resolve it there")
        elif form in trained or form in accepted:
            notes.append(f"{where}: already in the data as {intent}; skipped")
        else:
            accepted[form] = Example(intent, text, str(TARGET))
    return list(accepted.values()), problems, notes


def render(examples: list[Example]) -> str:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for e in examples:
        by_intent[e.intent].append(e.text)
    blocks = [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in sorted(by_intent.items())]

    class Literal(yaml.SafeDumper):
        pass

    Literal.add_representer(str, lambda d, s: d.represent_scalar(
        "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))
    return HEADER + yaml.dump({"version": "3.1", "nlu": blocks}, Dumper=Literal, allow_unicode=True, sort_keys=False)


def stage(path: Path) -> int:
    train = load_examples(NLU)
    accepted, problems, notes = check(read_items(path), domain_intents(), train,
                                      load_examples(DEV) + persona_lines(PERSONAS))
    for line in notes + problems:
        print(line)
    if problems:
        print(f"nothing imported: {len(problems)} item(s) to fix in {path}")
        return 1
    BACKUP.parent.mkdir(exist_ok=True)
    if TARGET.exists():
        shutil.copyfile(TARGET, BACKUP)
    else:
        NONE.touch()
    kept = [e for e in train if Path(e.file) == TARGET]
    TARGET.write_text(render(kept + accepted), encoding="utf-8")
    print(f"staged {len(accepted)} new example(s) in {TARGET.relative_to(ROOT)}; the gate decides next")
    return 0


def undo() -> int:
    if NONE.exists():
        TARGET.unlink(missing_ok=True)
        NONE.unlink()
    elif BACKUP.exists():
        shutil.move(BACKUP, TARGET)
    print("the gate failed: bot/data/nlu is as it was before the import")
    return 1


def keep() -> int:
    BACKUP.unlink(missing_ok=True)
    NONE.unlink(missing_ok=True)
    print(f"kept: {TARGET.relative_to(ROOT)} passed the twin check and the cross-validation gate; commit it")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["stage"] and len(argv) == 2:
        return stage(Path(argv[1]))
    if argv in (["keep"], ["undo"]):
        return keep() if argv == ["keep"] else undo()
    print(__doc__.strip().splitlines()[-1])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
