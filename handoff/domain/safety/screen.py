"""The safety screen (R13): three levels for every user text, decided by a lexicon and its context.

Why rules and not the NLU model alone: the screen must be predictable, explainable to staff and the prefecture,
fast enough to run before anything else on every message, and editable by staff without retraining
(`data/safety.yml`). The lexicon is the floor for explicit statements; context rules (handoff/domain/safety/context.py)
lower a hit only where a counsellor would: hyperbole, games and news, quoted words of an elder, long past and
resolved, questions and hypotheticals become `concern` or nothing. How the choice was measured: `make
safety-eval` and docs/decisions/0002-safety-screen.md.

Signals have a `kind` that says which rules apply:
- self (ideation, plans, self-harm, overdose, running away): danger to the writer; quoted from an elder → none,
  from a peer → concern, about the writer's own child → crisis (a guardian writing about their child).
- victim (being hit, threatened, abused, assaulted): danger to the writer's body; someone else as the victim or
  a past that may not be over → concern.
- threat (a weapon, 殺すぞ): crisis unless it is laughter or fiction.
- medical (not breathing, choking, collapsed, swallowed): someone else in immediate danger → emergency_other;
  told as the past of a care story (倒れてから介護) → none.
- concern (hopelessness, farewell words): concern; together with any other danger-to-self signal in the
  message → crisis. hint (a high place, 「さよなら」): nothing alone; beside danger to self, or beside a second
  kind of hint, → crisis.
- medical_named (動かない, 倒れた, ぐったり): a medical emergency only when someone is named as its subject.
- weak (a death or ending word beside a despair word, 「消えても誰も…」「生きてても仕方ない」 said in a way no term
  lists): a concern at most, and nothing at the first sign of a joke, a story, someone else or the past; never
  combined into a crisis. A counsellor reads it; the writer gets no alarm.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

import yaml

from handoff.domain.safety import learned
from handoff.domain.safety.context import Context, Qualifiers
from handoff.domain.safety.lexicon import Lexicon, SafetyConfigError, strings
from handoff.domain.safety.normalise import Sentence, sentences
from handoff.domain.safety.variants import Spellings
from handoff.settings import DATA_DIR

# Risk levels, most urgent first; the queue orders conversations the same way (crisis, emergency_other, concern).
CRISIS = "crisis"  # danger to the writer's life or body now or soon: 110/119 and 24 h lines at once
EMERGENCY_OTHER = "emergency_other"  # someone else (usually the person cared for) in immediate medical danger: 119
CONCERN = "concern"  # possible risk a counsellor must look at; the user gets no crisis message
LEVELS = (CRISIS, EMERGENCY_OTHER, CONCERN)
KINDS = ("self", "victim", "threat", "medical", "medical_named", "concern", "hint", "weak")
_RANK = {CRISIS: 0, EMERGENCY_OTHER: 1, CONCERN: 2}
# Acts, not words: 「またリスカしちゃった笑」 is self-harm with a laugh, never hyperbole.
_NO_JOKE = frozenset({"self_harm", "overdose"})
# Any of these makes a weak sign (a death word beside a despair word) nothing: it is too unsure to survive a doubt.
# Words, not blows: a confused elder shouting at the carer is care talk (a counsellor looks), hitting is not.
_SHOUTING = ("怒鳴", "どな", "暴言", "ぼうげん", "大声", "おおごえ")
_WEAK_LOWERED = ("laughter", "trivial", "speech", "past", "past_after", "negation", "service", "topical", "question")


@dataclass(frozen=True)
class SafetyResult:
    """Outcome of the screen: a level (None = nothing found), a category id for staff and records, and `term`, the
    normalised text that matched, for staff and tests only, never for logs or alerts."""

    level: str | None = None
    category: str | None = None
    term: str | None = None

    @property
    def crisis(self) -> bool:
        return self.level == CRISIS


NO_CRISIS = SafetyResult()


@dataclass(frozen=True)
class Signal:
    """A lexicon entry group: its category id (reported as the risk reason) and which context rules apply."""

    category: str
    kind: str
    fiction_frames: bool = True  # False: a game named in the sentence is the channel, not a story (runaway)


class SafetyScreen:
    """A compiled lexicon with its context rules. Build it once (`SafetyScreen.load`) and reuse it."""

    def __init__(
        self,
        signals: dict[str, Signal],
        lexicon: Lexicon,
        context: Context,
        second_opinion: learned.SecondOpinion | None = None,
    ) -> None:
        self._signals = signals
        self._second_opinion = second_opinion  # only ever adds concern where the rules found nothing
        self._order = {name: i for i, name in enumerate(signals)}  # earlier in safety.yml = more serious
        self._concern_signals = frozenset(name for name, s in signals.items() if s.kind == "concern")
        self._lexicon = lexicon
        self._context = context

    @classmethod
    def load(cls, path: Path | str) -> SafetyScreen:
        """Read and compile safety.yml; errors name the entry that is wrong."""
        path = Path(path)
        try:
            raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeys) or {}
        except yaml.YAMLError as exc:
            raise SafetyConfigError(f"{path}: not valid YAML: {exc}") from None
        try:
            return cls.from_data(raw, path.parent)
        except SafetyConfigError as exc:
            raise SafetyConfigError(f"{path}: {exc}") from None

    @classmethod
    def from_data(cls, raw: Any, base: Path = DATA_DIR) -> SafetyScreen:
        """Compile parsed safety.yml; `base` is the folder its `learned:` paths are relative to."""
        entries = raw.get("signals") if isinstance(raw, dict) else None
        if not isinstance(entries, dict) or not entries:
            raise SafetyConfigError("expected `signals:`, each with `kind:` and `terms:` and/or `patterns:`")
        signals: dict[str, Signal] = {}
        spellings = Spellings.from_data(raw.get("spellings"))
        terms: dict[str, list[str]] = {}
        patterns: dict[str, list[str]] = {}
        for name, entry in entries.items():
            if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
                raise SafetyConfigError(f"signals.{name} needs `kind:` (one of {', '.join(KINDS)})")
            signals[name] = Signal(
                str(entry.get("category") or name), entry["kind"], bool(entry.get("fiction_frames", True))
            )
            terms[name] = spellings.expand(strings(entry.get("terms"), f"signals.{name}.terms"))
            patterns[name] = [
                spellings.expand_pattern(p) for p in strings(entry.get("patterns"), f"signals.{name}.patterns")
            ]
        excl = raw.get("exclusions") or {}
        if not isinstance(excl, dict):
            raise SafetyConfigError("exclusions needs `phrases:` and/or `patterns:`")
        lexicon = Lexicon(
            terms,
            patterns,
            spellings.expand(strings(excl.get("phrases"), "exclusions.phrases")),
            strings(excl.get("patterns"), "exclusions.patterns"),
        )
        opinion = learned.from_config(raw.get("learned"), base)
        return cls(signals, lexicon, Context.from_data(raw.get("context"), "context", spellings), opinion)

    def screen(self, text: str) -> SafetyResult:
        """Screen one message: the most urgent level found by the rules in any of its sentences wins; where they
        found nothing, the learned second opinion may add a concern, and the crisis model may confirm a concern that
        no context rule lowered as crisis (handoff/domain/safety/learned.py)."""
        parts = sentences(text)
        result, settled = self._rules(parts)
        opinion = self._second_opinion
        if opinion is None:
            return result
        if result.level is None and not settled and opinion.flags(parts):
            result = SafetyResult(CONCERN, opinion.category)
            # A short message with a laugh (「テスト爆死まじ死ぬｗ」): the second opinion cannot see the joke, so its
            # concern stands only where the crisis model reads danger now (「知らない人の家に泊まってるｗ」).
            if self._laughing(parts) and not opinion.confirms_crisis(parts, result.category):
                return NO_CRISIS
        if result.level == CONCERN and opinion.confirms_crisis(parts, result.category):
            return SafetyResult(CRISIS, result.category, result.term)  # a sign the crisis model reads as danger now
        return result

    def _laughing(self, parts: list[Sentence]) -> bool:
        return "laughter" in self._context.message_cues([p.folded for p in parts], tuple(p.latin for p in parts))

    def rules_only(self, text: str) -> SafetyResult:
        """The lexicon and context rules alone (also for measuring what the second opinion adds)."""
        return self._rules(sentences(text))[0]

    def _rules(self, parts: list[Sentence]) -> tuple[SafetyResult, bool]:
        """The rules' result, and whether the message is settled: a term was found and a strong context made it
        nothing (the past told as resolved, a game or the news, a question about the service). The second opinion
        cannot read context, so it stays out of a settled message; jokes, quotes and the like it may still flag."""
        settled = False
        best: tuple[int, int, SafetyResult] | None = None  # (level rank, signal order, result)
        self_danger = False  # any danger-to-self hit, at whatever level, for the concern → crisis combination
        hints: list[SafetyResult] = []
        farewells: set[tuple[str, int]] = set()  # (signal, sentence) of farewell words
        last_word = False  # a farewell that says 'last' (最後に…)
        if not parts:
            return NO_CRISIS, False
        inherited = self._context.message_cues([p.folded for p in parts], tuple(p.latin for p in parts))
        # One pass of the lexicon over all sentences joined by a newline (no term or pattern crosses it): a
        # 5 000-character story costs one search per pattern, not one per pattern and sentence.
        masked = self._lexicon.mask("\n".join(p.folded for p in parts)).split("\n")
        starts = list(accumulate((len(m) + 1 for m in masked[:-1]), initial=0))
        joined = "\n".join(masked)
        for hit in self._lexicon.hits(joined, "\n".join(p.latin for p in parts)):
            i = bisect_right(starts, hit.start) - 1
            sentence, folded, offset = parts[i], masked[i], starts[i]
            # A game or the news named in the sentence before also frames this one (「国語で『こころ』。Kが…」).
            framed = inherited | (self._context.fiction(parts[i - 1].folded) if i else frozenset())
            framed |= self._context.latin_cues(sentence.latin)
            signal = self._signals[hit.signal]
            start = hit.start - offset
            q = self._context.qualify(
                folded, start, hit.end - offset, sentence.question, frozenset(framed), sentence.quoted(start)
            )
            if signal.category == "self_harm" and q.who is None and q.owner is not None:
                q = Qualifiers(q.cues, q.owner, q.owner)  # 「友達の腕に傷」: a cut on a friend's arm is theirs
            if not signal.fiction_frames:
                q = Qualifiers(q.cues - {"games"}, q.who, q.owner)  # 「ゲームで知り合った大人」; the news still frames
            level = decide(signal.kind, q, signal.category, hit.text)
            if level is None:
                settled = settled or _settles(q)
                continue
            result = SafetyResult(level, signal.category, hit.text)
            if signal.category == "farewell":
                farewells.add((hit.signal, i))
                last_word = last_word or "最後" in hit.text or "さいご" in hit.text
            if signal.kind == "hint":  # a rooftop or 「さよなら」 alone is everyday; beside danger it is a plan
                hints.append(result)
                # 「いま屋上にいる」「線路の近く」, 「屋上の鍵あいてた。今そこ」 are a concern on their own
                if not q.has("presence", "urgency", "here_now"):
                    continue
                # 「いまマンションの屋上」: there now; so is a guardian's child at a high place (「うちの子が屋上に」)
                if (q.has("here_now") or q.who == "child") and signal.category != "farewell":
                    result = SafetyResult(CRISIS, signal.category, hit.text)
                    level = CRISIS
            if signal.kind == "concern":
                hints.append(result)
            elif signal.kind in ("self", "victim") and not q.has("negation"):
                self_danger = True  # 「死にたいとかじゃないけど限界」 is a concern, not a crisis
            rank = (_RANK[level], self._order[hit.signal])
            if best is None or rank < best[:2]:
                best = (*rank, result)
        if best is not None and best[0] == 0:
            return best[2], settled
        if hints and self_danger:
            return SafetyResult(CRISIS, hints[0].category, hints[0].term), settled
        if len(hints) >= 2 and len({h.category for h in hints}) >= 2:
            return SafetyResult(CRISIS, hints[0].category, hints[0].term), settled  # e.g. farewell words on a rooftop
        # Farewell words twice, or a last word and a bye (「最後に話したかった、ばいばい」); not one thank-you and
        # a bye, which closes many chats (「今までありがとう、ばいばい」).
        farewell_words = {f for f in farewells if f[0] in self._concern_signals}
        if len(farewell_words) >= 2 or (farewell_words and len(farewells) >= 2 and last_word):
            return SafetyResult(CRISIS, "farewell", hints[0].term), settled
        return (best[2] if best else NO_CRISIS), settled


def _settles(q: Qualifiers) -> bool:
    """A context strong enough that the rules' 'nothing' stands against the second opinion."""
    resolved = q.has("past", "past_after") and q.has("resolved")
    confused_words = q.has("speech") and q.has("confused")  # 認知症の祖母の「死にたい」: care talk, already read
    return resolved or confused_words or q.has("fiction", "games") or (q.has("service") and q.has("question"))


def decide(kind: str, q: Qualifiers, category: str = "", term: str = "") -> str | None:
    """The level of one hit given its context; the one place where the context rules live. `term` is the matched
    text, for the few rules that depend on the word itself (shouting is words, not blows)."""
    if q.has("fiction", "games") and not (kind in ("self", "victim") and q.has("me_too")):
        return None  # 「ニュースで自殺の話」 is the news; 「…見て、わたしも死にたくなった」 is the writer
    if kind == "medical":
        return _medical(q)
    if kind == "medical_named":  # 「動かない」 alone is a printer or a stiff neck; 「おばあちゃんが動かない」 is not
        return _medical(q) if (q.who or q.owner) in ("elder", "peer", "child") else None
    if kind == "threat":
        if q.has("past", "past_after") and q.has("resolved"):
            return None  # 「ストーカーされてたけど、接近禁止になった。もう大丈夫」
        if q.has("speech") and q.who == "elder" and q.has("confused"):
            return None  # a confused elder's fear (「戦争で家が燃えてる」って泣く, 認知症), not a threat to the writer
        return None if q.has("laughter") else CRISIS
    if kind == "weak":
        lowered = q.has(*_WEAK_LOWERED) or q.who in ("elder", "peer", "child")
        return None if lowered else CONCERN
    if category == "farewell" and q.has("again"):
        return None  # 「今までありがとうございました。またね」: a goodbye that expects to come back
    if kind in ("concern", "hint"):
        if q.has("laughter") or q.who in ("elder", "peer") or (q.has("past", "past_after") and q.has("resolved")):
            return None
        return CONCERN
    # self and victim: danger to the writer
    if q.has("past", "past_after") and q.has("resolved"):
        return None
    if q.has("speech") and q.has("confused") and q.has("elder_named") and q.who in (None, "elder", "first_person"):
        return None  # a confused elder's words, their speaker named in an earlier sentence
    if q.has("laughter") and q.has("trivial") and category not in _NO_JOKE:
        return None  # 「お母さんって呼んじゃった、恥ずかしすぎて消えたい笑」: whoever is named, a joke
    quoted_fear = category == "death_threat" and q.has("speech")  # 「殺される」って電話してくる: their fear
    joking = q.has("laughter", "trivial", "quarrel")
    # 「…泥棒！」って怒鳴る: the ！ split the sentence, the elder was named in the part before
    shouted_by_elder = q.who == "elder" or (q.who is None and q.has("elder_named"))
    if kind == "victim" and shouted_by_elder and q.has("confused") and any(w in term for w in _SHOUTING):
        return CONCERN  # 「認知症のじいちゃんが怒鳴ってくる」: care talk a counsellor looks at, not a call to 110
    if kind == "victim" and q.who in ("elder", "peer") and q.has("toward_me") and not joking:
        if not quoted_fear:
            return CRISIS  # 「兄貴がキレると首しめてくる」: they are the one who does it, to the writer
    if q.who == "child":
        return CRISIS  # a guardian writing about their child counts as the child's risk
    if q.who in ("elder", "peer"):
        if q.has("speech"):  # their words: an ill or confused elder's are care talk, a peer's may be a risk
            if q.has("acute") or (category == "overdose" and not q.has("past", "past_after", "laughter", "habitual")):
                return EMERGENCY_OTHER  # 「死ぬ」って包丁を持って, 「薬いっぱいのんだ」って: their life, now
            return None if q.who == "elder" or q.has("laughter", "trivial", "quarrel", "topical") else CONCERN
        if kind == "self" and q.has("acute") and not q.has("past", "past_after"):
            return EMERGENCY_OTHER  # 「ママがベランダの柵こえそう」: their life, now
        if q.who == "elder" and category == "overdose" and q.has("routine", "question") and not q.has("urgency"):
            return None  # 「ばあちゃんが薬を10錠飲んでるけど多すぎない？」: their prescription, asked about
        if q.who == "peer" and q.has("habitual"):
            return CONCERN  # 「友達がODしてるっぽい」: a habit told, not an overdose just taken
        if category in ("self_harm", "overdose") and not q.has("past", "past_after"):
            # an elder's cut or overdose, a sibling's overdose (often a small child), a friend's told as now: 119
            friend_later = q.has("friend") and not q.has("urgency", "acute")  # 「友達がODして学校休んでる」
            if q.who == "elder" or (category == "overdose" and not friend_later):
                return EMERGENCY_OTHER  # the person cared for cut themself or took too much: a medical emergency
        return CONCERN  # a friend or sibling who may be cutting (「リスカしてるっぽい」): a counsellor looks first
    if q.has("care_giving"):
        return None  # 薬を全部飲ませた: giving the medicine, not taking it
    if q.has("past", "past_after") and not q.has("ongoing"):
        return CONCERN
    if q.has("occasional") and not q.has("ongoing"):
        return CONCERN  # 「たまに消えたくなる」: a passive wish now and then, not tonight
    if category == "self_harm" and q.has("urge"):
        return CONCERN  # 「壁殴りたくなる」: an urge without the act (label rule 6), a counsellor looks first
    if category == "death_threat" and q.has("trivial", "quarrel"):
        return None  # 「宿題に殺される」「可愛すぎて殺される」
    if q.has("laughter") and category not in _NO_JOKE:
        return None if kind == "victim" or q.has("trivial") else CONCERN
    if q.has("service") and q.has("question"):
        return None if q.has("topical") else CONCERN  # 「リスカの話とかも聞いてもらえる？」 asks about the service
    if q.has("negation", "hypothetical"):
        return None if q.has("trivial") else CONCERN  # 「死にたいとかじゃないけど発表やだ」
    if category == "suicide" and q.has("trivial") and not (q.has("thinking") and q.has("ongoing")):
        return CONCERN  # 「明日の発表こわすぎて消えたい」: likely hyperbole; 「…死にたいって毎日思う」 is not
    return CRISIS


def _medical(q: Qualifiers) -> str | None:
    if q.who == "first_person":
        return CONCERN
    if q.has("handled") and q.has("resolved"):
        return None  # 「先週、父が急に胸が痛いって…119に電話した。…来週退院」: told after it was handled
    if q.has("care_after", "past", "past_after", "resolved", "often") and not q.has("urgency"):
        return None  # 倒れてから介護, 救急車を呼んだことがある…今は元気, 「胸が苦しい」ってよく言う
    if q.has("laughter") or (q.has("hypothetical") and not q.has("urgency")):
        return None  # 「もしものときの練習」: preparing for one, not one now
    return EMERGENCY_OTHER


class _UniqueKeys(yaml.SafeLoader):
    """YAML keeps the last of two equal keys without a word; in a lexicon that silently drops a list of terms."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    twice = sorted({str(k) for k in keys if keys.count(k) > 1})
    if twice:
        raise SafetyConfigError(f"line {node.start_mark.line + 1}: {', '.join(twice)} given twice")
    return loader.construct_mapping(node, deep=deep)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@lru_cache(maxsize=4)
def default_screen(path: Path = DATA_DIR / "safety.yml") -> SafetyScreen:
    """The shipped lexicon, compiled once per process (the gateway may also inject its own)."""
    return SafetyScreen.load(path)


def screen(text: str, lexicon: SafetyScreen | None = None) -> SafetyResult:
    """Screen `text` with `lexicon`, or with the shipped data/safety.yml."""
    return (lexicon or default_screen()).screen(text)
