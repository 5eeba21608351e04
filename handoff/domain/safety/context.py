"""Context qualifiers around a hit, after the ConText/NegEx family of clinical NLP algorithms.

ConText asks three things of every finding: is it negated, is it historical, and who experiences it. A trained
SNS counsellor asks the same of 「死にたい」, plus what kind of text it is: hyperbole with 笑, a game or the news, a
question about what the service accepts, a hypothetical. Each question is answered by cue phrases from
data/safety.yml (`context:`), looked for in a window before or after the hit inside its sentence, so that the
answer stays explainable ("quoted speech of an elder") and staff can extend the cues without code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handoff.domain.safety.lexicon import SafetyConfigError, compile_pattern, fold_terms, strings, trie_regex
from handoff.domain.safety.variants import Spellings

# Cue groups, and where each is looked for relative to the hit: "before", "after" (within WINDOW characters),
# or "sentence" (anywhere in the hit's sentence).
CUES: dict[str, str] = {
    "laughter": "after",
    "fiction": "sentence",
    "games": "sentence",
    "past": "sentence",
    "past_life": "sentence",
    "past_after": "after",
    "resolved": "sentence",
    "resolved_more": "sentence",
    "speech": "after",
    "speech_more": "after",
    "trivial": "sentence",
    "quarrel": "sentence",
    "ongoing": "sentence",
    "topical": "after",
    "negation": "after",
    "service": "sentence",
    "hypothetical": "before",
    "care_giving": "after",
    "care_after": "after",
    "care_far": "sentence",
    "presence": "after",
    "urgency": "sentence",
    "occasional": "sentence",
    "acute": "sentence",
    "toward_me": "sentence",
    "habitual": "after",
    "often": "sentence",
    "again": "sentence",
    "here_now": "sentence",
    "confused": "sentence",
    "routine": "sentence",
    "friend": "sentence",
    "me_too": "before",
    "handled": "sentence",
    "thinking": "after",
    "urge": "after",
}
WINDOW = 12
# Groups split only so the data file stays readable (phrases and patterns); rules see one name.
_ALIAS = {"past_life": "past", "resolved_more": "resolved", "speech_more": "speech", "care_far": "care_after"}
# Who a sentence is about: the nearest person mentioned before the hit (and marked as its subject) decides.
PEOPLE = ("first_person", "elder", "peer", "child")
_SUBJECT_PARTICLES = ("が", "は", "も", "って", "ったら", "から", "ちゃんが")
# Quoted words belong to anyone named before them, particle or not (「じいちゃん、夜中に『殺される』」), except
# the person they were said to.
_ADDRESSEE = ("に", "へ")
_SUBJECT_MARKS = ("が", "は", "も")
# Latin laughter (lol, jk, lmao) is a word of its own: matched among the sentence's latin words, never inside the
# folded text where spaces are gone and 「lola is not breathing」 (lola: grandmother in Tagalog) reads "lol".
_WHOLE_WORDS = ("laughter",)


@dataclass(frozen=True)
class Qualifiers:
    """What the context says about one hit; `who` is first_person, elder, peer, child, or None (unsaid); `owner`
    is whose body the sentence names before the hit (「ばあちゃんの息がへん」: elder), for medical signs."""

    cues: frozenset[str]
    who: str | None
    owner: str | None = None

    def has(self, *names: str) -> bool:
        return any(name in self.cues for name in names)


class Context:
    """Compiled cue lists; `qualify` reads the context of one hit."""

    def __init__(self, cues: dict[str, list[str]], patterns: dict[str, list[str]] | None = None) -> None:
        patterns = patterns or {}
        unknown = (set(cues) | set(patterns)) - set(CUES) - set(PEOPLE)
        if unknown:
            raise SafetyConfigError(f"context: unknown cue groups {sorted(unknown)}")
        self._rx: dict[str, re.Pattern[str]] = {}
        self._latin_rx: dict[str, re.Pattern[str]] = {}
        for name in (*CUES, *PEOPLE):
            plain, latin = fold_terms(cues.get(name, []), f"context.{name}")
            if name in _WHOLE_WORDS and latin:
                # a laugh drawn out (lmaooo, lolll) is still the same word
                stretched = "|".join(f"{re.escape(w)}{re.escape(w[-1])}*" for w in sorted(latin, key=len, reverse=True))
                self._latin_rx[name] = re.compile(rf"(?<![a-z0-9])(?:{stretched})(?![a-z0-9])")
                latin = set()
            parts = [trie_regex(plain | latin)] if plain or latin else []
            parts += [compile_pattern(p, f"context.{name} pattern").pattern for p in patterns.get(name, [])]
            if parts:
                self._rx[name] = re.compile("|".join(f"(?:{p})" for p in parts))

    @classmethod
    def from_data(cls, raw: Any, where: str, spellings: Spellings | None = None) -> Context:
        """Cue phrases get the same kana spellings as the lexicon (昔 also meets むかし), never a dropped particle:
        a cue is often the particle itself (「今は」 is resolved, 「今」 is not)."""
        if raw is None:
            return cls({})
        if not isinstance(raw, dict):
            raise SafetyConfigError(f"{where}: context needs cue groups ({', '.join((*CUES, *PEOPLE))})")
        cues: dict[str, list[str]] = {}
        patterns: dict[str, list[str]] = {}
        for name, entry in raw.items():
            if isinstance(entry, dict):
                cues[name] = strings(entry.get("terms"), f"{where}: context.{name}.terms")
                patterns[name] = strings(entry.get("patterns"), f"{where}: context.{name}.patterns")
            else:
                cues[name] = strings(entry, f"{where}: context.{name}")
        if spellings is not None:
            cues = {name: spellings.expand(terms, drop_particles=False) for name, terms in cues.items()}
            patterns = {name: [spellings.expand_pattern(p) for p in ps] for name, ps in patterns.items()}
        return cls(cues, patterns)

    def latin_cues(self, latin: str) -> frozenset[str]:
        """Cues written as latin words (lol, jk), looked for as whole words in a sentence's latin words."""
        return frozenset(name for name, rx in self._latin_rx.items() if latin and rx.search(latin))

    def message_cues(self, sentences: list[str], latin: tuple[str, ...] = ()) -> frozenset[str]:
        """Cues that speak for the whole message: a resolution said in another sentence (「今は平気」); laughter, a
        trivial cause or 'I am here now' in a short message (「ママに殺される お皿割った笑」,
        「踏切の近く。しばらくここにいる」)."""
        found = {"resolved" for name in ("resolved", "resolved_more") if self._any(name, sentences)}
        found |= {"again"} if self._any("again", sentences) else set()  # 「またね」 anywhere in the message
        # 「認知症で…。夜中に『火をつけられる』って叫ぶ」: the illness named anywhere explains the quoted fear
        found |= {"confused"} if self._any("confused", sentences) else set()
        # 「祖父が認知症で…。今日も『帰れないなら死んでやる』と大声を」: the speaker was named sentences before
        found |= {"elder_named"} if self._any("elder", sentences) else set()
        if sum(map(len, sentences)) <= 40:
            # 「ライブ当たった！！もう死んでもいい😂」: the cause and the laugh can sit in the sentence before
            found |= {name for name in ("laughter", "trivial", "quarrel", "here_now") if self._any(name, sentences)}
            found |= {name for words in latin for name in self.latin_cues(words)}
        return frozenset(found)

    def fiction(self, sentence: str) -> frozenset[str]:
        """Whether a sentence names a story or a game, which then frames the next sentence too."""
        return frozenset(name for name in ("fiction", "games") if (rx := self._rx.get(name)) and rx.search(sentence))

    def _any(self, name: str, sentences: list[str]) -> bool:
        rx = self._rx.get(name)
        return rx is not None and any(rx.search(s) for s in sentences)

    def qualify(
        self,
        sentence: str,
        start: int,
        end: int,
        question: bool,
        inherited: frozenset[str] = frozenset(),
        quoted: bool = False,
    ) -> Qualifiers:
        """The cues around sentence[start:end] and who it is about; `inherited` are message-level cues; `quoted`
        says the hit stands inside 「」: someone's words, whatever verb follows (「…」ってベッドから降りようとする)."""
        # "after" starts inside the hit's last two characters: 「死にたかった時期」 reads 「った時期」.
        before, after = sentence[max(0, start - WINDOW) : start], sentence[max(start, end - 2) : end + WINDOW]
        found: set[str] = set(inherited)
        for name, where in CUES.items():
            rx = self._rx.get(name)
            if rx is None:
                continue
            scope = {"before": before, "after": after}.get(where, sentence)
            if rx.search(scope):
                found.add(_ALIAS.get(name, name))
        if question:
            found.add("question")
        if quoted:
            found.add("speech")
        return Qualifiers(
            frozenset(found), self._who(sentence, start, quoted="speech" in found), self._owner(sentence, start)
        )

    def _owner(self, sentence: str, start: int) -> str | None:
        """The person whose body part is named before the hit (「弟の唇が紫」「母の顔色が真っ白」). A possessive is
        not a subject (母の薬 is her medicine, not her act), but a body's signs are its owner's emergency."""
        found: list[tuple[int, str]] = []
        for name in PEOPLE[1:]:
            rx = self._rx.get(name)
            if rx is None:
                continue
            for match in rx.finditer(sentence, 0, start):
                if _BODY.match(sentence, match.end()):
                    found.append((match.end(), name))
        return max(found)[1] if found else None

    def _who(self, sentence: str, start: int, quoted: bool) -> str | None:
        """The nearest person named before the hit, if marked as a subject or topic; possessives (母の薬) do not
        count, they say whose thing it is, not who acts. Words quoted with a speech verb belong to the nearest
        person named, particle or not (「じいちゃん、夜中に『殺される』って叫ぶ」)."""
        before = sentence[:start]
        found: list[tuple[int, str]] = []
        for name in PEOPLE:
            rx = self._rx.get(name)
            if rx is None:
                continue
            for match in rx.finditer(before):
                end = _past_annotation(before, match.end())
                follows = before[end : end + 4]
                if name != "first_person":
                    if quoted and follows.startswith(_ADDRESSEE):
                        continue  # 「母に死にたいって言ったら」: said to her, not by her
                    if not quoted and not follows.startswith(_SUBJECT_PARTICLES) and not _opens(sentence, start, match):
                        continue
                found.append((end, name))
        if quoted and any(name != "first_person" for _, name in found):
            found = [f for f in found if f[1] != "first_person"]  # 「母が『私なんて…』って泣く」: 私 is quoted
        if quoted:  # 「娘が祖母の介護で疲れて『消えたい』と泣く」: the one marked as subject speaks, not 祖母の
            marked = [f for f in found if f[1] != "first_person" and before[f[0] : f[0] + 1] in _SUBJECT_MARKS]
            found = marked or found
        return max(found)[1] if found else None


# An age or school year in brackets after a name, brackets folded away: 「うちの子（小6）が」 → うちの子小6が.
_ANNOTATION = re.compile(r"(小|中|高|大)?[0-9一二三四五六七八九十]+(年生|年|歳|さい|才)?")


def _past_annotation(text: str, end: int) -> int:
    """Where the particle after a name is, past an age or school year written beside it."""
    match = _ANNOTATION.match(text, end)
    return match.end() if match else end


def _opens(sentence: str, start: int, match: re.Match[str]) -> bool:
    """A person named first in the sentence, particle dropped as on LINE (「ばあちゃんたおれた」「じいちゃんお風呂で
    ぐったり」), is its subject; elsewhere a bare name is too often part of a longer word (ママ友, ばあちゃん家)."""
    whole = match.re.match(sentence, match.start())  # 「母親にけられ」 with the hit at 親: the name is 母親, not 母
    if whole is None or whole.end() > start:
        return False
    return sentence[: match.start()] in _LEAD and sentence[match.end() : match.end() + 1] not in _NOT_SUBJECT


# A body part or sign after a name and の: whose body it is (息 also as いき only after の, never 行き alone).
_BODY = re.compile(
    "の(息|いき|呼吸|こきゅう|顔|かお|唇|くちびる|口|くち|体|からだ|手|足|あし|頭|あたま|胸|むね|意識|いしき|様子|ようす"
    "|脈|みゃく|目|め|腕|うで|手首|てくび|太もも|ふともも|指|ゆび)"
)
# What may stand before a sentence-initial subject (「うちのばあちゃん」), and what after a name says it is not one.
_LEAD = frozenset({"", "うちの", "私の", "わたしの", "僕の", "ぼくの", "俺の", "おれの", "my"})  # "my mom took…"
_NOT_SUBJECT = frozenset("のにへをとやちんさく家s")  # ばあちゃんの, ママ友, おじさん, 母と, grandma's
