"""The intents a trainer may give a misread turn: the bot's own domain (bot/domain/<feature>.yml), read at start-up.

Read from the bot's files rather than listed again here, so a new intent is offered as soon as the bot has it.
`follow` is left out: it is LINE's friend-add event, never something a person types.
"""

from __future__ import annotations

from pathlib import Path

from handoff.domain.datafile import ContentError, read_yaml

DOMAIN = Path(__file__).resolve().parent.parent / "bot" / "domain"
NOT_TYPED = frozenset({"follow"})


def load_intents(domain: Path = DOMAIN) -> dict[str, list[str]]:
    """Feature (file name) → its intents, in the files' order."""
    features: dict[str, list[str]] = {}
    for path in sorted(domain.glob("*.yml")):
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise ContentError(f"{path}: not a Rasa domain file")
        names = [i if isinstance(i, str) else next(iter(i)) for i in data.get("intents") or []]
        if kept := [n for n in names if n not in NOT_TYPED]:
            features[path.stem] = kept
    if not features:
        raise ContentError(f"{domain}: no intents found (is the bot's domain there?)")
    return features
