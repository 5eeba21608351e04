"""The learned second opinion of the safety screen (handoff/domain/safety/learned.py, issue 13).

It may only add `concern` (reason `learned`) where the rules found nothing: it never gives 119, never changes what
the rules decided for an explicit statement, and the same files always train the same model. Its crisis model may
raise such a concern, or a rules concern of a `crisis_from` category, to crisis (test_safety_learned_crisis.py);
nothing else.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.domain.safety import CONCERN, CRISIS, SafetyConfigError, SafetyScreen, default_screen, learned
from handoff.pipeline.inbox import store_events
from handoff.settings import DATA_DIR, normalise_database_url
from handoff.store.migrate import upgrade
from tests.safety.evaluate import load_items
from tests.support.databases import rows
from tests.support.inprocess import in_process, text_event

# Written for this test (not from a dev set): indirect wishes the rules have no term for.
LEARNED_ONLY = [
    "ずっと眠っていられたらいいのに",
    "もうぜんぶやめたい",
]
# Explicit statements: the rules decide them, and the second opinion must not change a thing.
EXPLICIT = [
    ("死にたい", CRISIS),
    ("リスカしちゃった", CRISIS),
    ("薬を20錠飲んだ", CRISIS),
    ("父に殴られた", CRISIS),
    ("もう疲れた、消えたいな", CRISIS),
    ("i want to die", CRISIS),
]
# Written for this test: harmless texts of the false-alarm kinds the issue names, which must stay quiet.
QUIET = [
    "テスト死んだ笑",
    "このゲームのラスボスに何回も殺された笑",
    "父が救急車で運ばれたのは去年の話で、今は元気",
    "ばあちゃんの薬を薬局に取りに行った",
    "ここって何歳まで相談できますか",
    "部活の練習がきつすぎて死ぬかと思ったｗ",
]
DEV_SETS = sorted((Path(__file__).parents[1] / "safety" / "data").glob("dev*.yml"))


def _screen() -> SafetyScreen:
    return default_screen()


@pytest.mark.parametrize("text", LEARNED_ONLY)
def test_an_indirect_wish_the_rules_miss_becomes_a_learned_concern(text: str) -> None:
    """Flagged with the reason `learned`: a concern, or crisis where the crisis model also reads it as now."""
    screen = _screen()
    assert screen.rules_only(text).level is None, "the rules now catch this; pick a text they miss"
    result = screen.screen(text)
    assert (result.level in (CONCERN, CRISIS), result.category, result.term) == (True, learned.CATEGORY, None)


@pytest.mark.parametrize(("text", "level"), EXPLICIT)
def test_explicit_statements_are_the_rules_call_unchanged(text: str, level: str) -> None:
    screen = _screen()
    assert screen.screen(text) == screen.rules_only(text)
    assert screen.screen(text).level == level
    assert screen.screen(text).category != learned.CATEGORY


@pytest.mark.parametrize("text", QUIET)
def test_harmless_kinds_stay_quiet_with_the_second_opinion(text: str) -> None:
    assert _screen().screen(text).level is None


def _raised(rules: Any, full: Any, screen: SafetyScreen) -> bool:
    """A rules concern of a category the crisis model may raise, raised to crisis with the rules' reason."""
    opinion = screen._second_opinion
    assert opinion is not None
    return (rules.level, full.level, full.category) == (CONCERN, CRISIS, rules.category) and (
        rules.category in opinion.crisis_from
    )


def test_on_every_dev_text_it_only_ever_adds_concern_where_the_rules_found_nothing() -> None:
    screen = _screen()
    added = 0
    for path in DEV_SETS:
        for item in load_items(path):
            rules, full = screen.rules_only(item["text"]), screen.screen(item["text"])
            if rules.level is not None:
                assert full == rules or _raised(rules, full, screen), f"{path.name}: a rules decision changed"
            elif full.level is not None:
                assert (full.level, full.category) in ((CONCERN, learned.CATEGORY), (CRISIS, learned.CATEGORY))
                added += 1
    assert added > 0  # it does something, or this test proves nothing


def test_without_a_learned_section_the_screen_is_the_rules_alone() -> None:
    raw: Any = yaml.safe_load((DATA_DIR / "safety.yml").read_text(encoding="utf-8"))
    raw.pop("learned")
    rules = SafetyScreen.from_data(raw)
    assert rules.screen(LEARNED_ONLY[0]).level is None
    assert rules.screen("死にたい").level == CRISIS


@pytest.mark.parametrize("threshold", [0, 1, 1.5, "high"])
def test_a_threshold_outside_0_1_is_a_clear_config_error(threshold: object) -> None:
    raw = {"threshold": threshold, "train": "safety_concern_train.yml", "nlu": "../bot/data/nlu"}
    with pytest.raises(SafetyConfigError, match="threshold"):
        learned.from_config(raw, DATA_DIR)


def test_a_missing_training_file_is_a_clear_config_error(tmp_path: Path) -> None:
    raw = {"threshold": 0.5, "train": str(tmp_path / "nope.yml"), "nlu": "../bot/data/nlu"}
    with pytest.raises(SafetyConfigError, match="not found"):
        learned.from_config(raw, DATA_DIR)


_PROBE = [*LEARNED_ONLY, *QUIET, "もう全部おわりにしたい"]
_SCORES = (
    "import json, sys; from pathlib import Path; from handoff.domain.safety import learned; "
    "m = learned.trained(Path(sys.argv[1]), Path(sys.argv[2])); "
    "print(json.dumps([m.message_score(t) for t in json.loads(sys.argv[3])]))"
)


def test_training_is_deterministic_across_loads_and_processes(tmp_path: Path) -> None:
    """Trained twice here and once in another process (another string-hash seed) from one copy of the files, so
    that an edit of the bot's NLU data meanwhile cannot make the runs differ."""
    train_file, nlu_dir = tmp_path / "train.yml", tmp_path / "nlu"
    train_file.write_bytes((DATA_DIR / "safety_concern_train.yml").read_bytes())
    nlu_dir.mkdir()
    for path in sorted((DATA_DIR.parent / "bot" / "data" / "nlu").glob("*.yml")):
        (nlu_dir / path.name).write_bytes(path.read_bytes())
    learned._trained.cache_clear()
    first = learned.trained(train_file, nlu_dir)
    learned._trained.cache_clear()
    second = learned.trained(train_file, nlu_dir)
    assert first is not second and first == second
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # another string hash order must not change the weights
    argv = [sys.executable, "-c", _SCORES, str(train_file), str(nlu_dir), json.dumps(_PROBE)]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == [first.message_score(t) for t in _PROBE]


def test_a_learned_concern_reaches_staff_as_concern_and_the_user_gets_no_110_119(sqlite_url: str) -> None:
    """End to end with the real screen: the conversation is `concern` / `learned`, a concern alert, no case."""
    url = normalise_database_url(sqlite_url)
    upgrade(url)
    user = "U" + "7" * 32

    async def run() -> list[str]:
        async with in_process(url) as worker:
            for n, text in enumerate(["こんにちは", LEARNED_ONLY[0]], start=1):
                await store_events(worker.res.db, [text_event(user, text, n)])
                await worker.inbox.drain(user)
            return worker.rasa.asked

    asked = asyncio.run(run())
    assert asked == ["こんにちは"]  # the flagged text went to staff, not to the bot
    replies = [r["text"] for r in rows(sqlite_url, "SELECT text FROM messages WHERE sender = 'system'")]
    assert all("110" not in r and "119" not in r for r in replies)
    assert rows(sqlite_url, "SELECT risk, risk_reason, crisis FROM conversations") == [
        {"risk": CONCERN, "risk_reason": learned.CATEGORY, "crisis": 0}]
    assert rows(sqlite_url, "SELECT type FROM alerts") == [{"type": "concern"}]
    assert rows(sqlite_url, "SELECT id FROM escalations") == []


def _table_rows() -> list[tuple[str, str | None]]:
    """Every labelled row of the rules' tables (test_safety.py, test_safety_context.py, test_safety_kinds.py)."""
    from tests.handoff import test_safety, test_safety_context, test_safety_kinds

    found: list[tuple[str, str | None]] = [(t, None) for t in test_safety.NEGATIVES if t.strip()]
    found += [(t, CRISIS) for t, _ in test_safety.POSITIVES]
    found += [(t, level) for _, t, level in test_safety_context.CASES]
    found += [(t, level) for _, t, level in test_safety_kinds.CASES]
    return found


def test_on_the_rules_tables_it_adds_concern_to_few_harmless_rows_and_changes_no_decision() -> None:
    """The tables are the rules' look-alikes (words holding a term, jokes, an elder's words, the past), harder than
    real messages: the second opinion adds a concern to 35 of 183 harmless rows at threshold 0.55 (on the dev sets'
    realistic harmless messages about 5 %). It may add no more, and nothing else."""
    screen = _screen()
    harmless = added = raised = 0
    for text, level in _table_rows():
        rules, full = screen.rules_only(text), screen.screen(text)
        if rules.level is not None:
            assert full == rules or _raised(rules, full, screen), text
            raised += level is None and full != rules
            continue
        assert full.level in (None, CONCERN, CRISIS), text
        if level is None:
            harmless += 1
            added += full.level == CONCERN
            raised += full.level == CRISIS
    assert harmless > 100
    assert added / harmless <= 0.30, f"learned concern on {added} of {harmless} harmless table rows"
    assert raised / harmless <= 0.03, f"the crisis model raised {raised} of {harmless} harmless table rows"


def _always_flagging() -> SafetyScreen:
    """The shipped rules with a second opinion that flags every text (bias 10, no weights)."""
    rules = _screen()
    opinion = learned.SecondOpinion(learned.Model({}, 10.0), threshold=0.5)
    return SafetyScreen(rules._signals, rules._lexicon, rules._context, opinion)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("昔リスカしてたけど、今はもうしてない、大丈夫", None),  # the past told as resolved settles it
        ("ゲームで敵に殺されまくって萎えた", None),  # a game settles it
        ("自殺の話とかも相談していいですか？", None),  # a question about the service settles it
        ("おばあちゃんが「死にたい」ってよく言う", CONCERN),  # an elder's words: the rules' none, not settled
        ("今日は雨で部活が休みだった", CONCERN),  # nothing found at all
        ("i cant sleep again tonight", CONCERN),  # five latin words: enough for the model to speak
        ("good night", None),  # two latin words (learned.MIN_LATIN_WORDS): left to the rules' English terms
        ("66-first", None),  # letters and digits folded together (66first) give a character model nothing
        ("before", None),  # too short for a character model (learned.MIN_CHARS): left to the rules
        ("死にたい", CRISIS),  # the rules' crisis stands
    ],
)
def test_the_second_opinion_stays_out_of_a_message_the_rules_settled(text: str, level: str | None) -> None:
    assert _always_flagging().screen(text).level == level
