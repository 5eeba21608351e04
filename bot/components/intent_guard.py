"""Last word on the intent, after the intent classifier and the FallbackClassifier.

1. Crisis never falls back: if the FallbackClassifier replaced the intent with `nlu_fallback` but the
   classifier's best guess was `crisis` (confidence >= `crisis_floor`), the intent is set back to `crisis`.
   A missed crisis costs far more than a needless escalation (R13).
2. A button's label typed instead of tapped (「同意しない」「ほかの質問にも答える」) means what the button means:
   `typed_labels` maps each label (folded: width, case, kana, marks and spaces ignored) to the button's intent.
   Why not examples alone: the label is the bot's own word and must never be misread, yet 「同意しない」 shares
   its letters with 「同意しないとどうなる？」 (a question about consent) and continue_profile is button-only.
3. The first message after a counsellor resolved the conversation becomes `return_visit`. Why: the gateway
   signals it only in the message metadata (`event: "return"`), which policies cannot see. Light intents
   (greetings, small talk, fallback …) are turned into `return_visit`, so the bot greets back briefly.
   Safety-relevant and concrete intents (crisis, asking for a person, withdrawing consent, worries, questions)
   are left alone so the user's request is answered directly.
4. A message that is only a place name (a `municipality` entity from the lookup table, with at most an ending such
   as です or やけど) is that place: `inform_profile`, when the classifier made a light intent of it. Why: a bare
   「ななお」 typed while the consent question was open was read as `deny` and recorded a refusal of consent.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

RETURN_INTENT = "return_visit"


def fold_label(text: str) -> str:
    """NFKC, lower case, katakana → hiragana, and only letters and digits kept (「同意しない！」 → 同意しない)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in folded)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentGuard(GraphComponent):
    """Typed button labels → their intent; restores low-confidence crisis; light intents → `return_visit` on
    metadata.event == "return"."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Intents that may be replaced (everything else keeps its meaning)."""
        return {
            "crisis_floor": 0.25,
            "overridable_intents": [
                "greet", "follow", "return_visit", "chitchat", "out_of_scope", "nlu_fallback",
                "thanks", "affirm", "deny", "goodbye",
            ],
            "typed_labels": {},
            "place_intent": "inform_profile",
            "place_entity": "municipality",
            "place_endings": ["です", "だよ", "よ", "やよ", "やけど", "やで", "やし", "かな", "住み", "在住",
                              "に住んでる", "に住んでます", "に住んどる", "の方", "のほう"],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the set of overridable intents."""
        self._overridable = set(config.get("overridable_intents") or [])
        self._crisis_floor = float(config.get("crisis_floor", 0.25))
        self._labels = {fold_label(str(k)): str(v) for k, v in (config.get("typed_labels") or {}).items()}
        self._place_intent = str(config.get("place_intent") or "inform_profile")
        self._place_entity = str(config.get("place_entity") or "municipality")
        self._place_endings = {fold_label(str(e)) for e in config.get("place_endings") or []} | {""}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentGuard:
        """Creates the component (see the parent class)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Applies both guards; training data never carries metadata, so it is untouched."""
        for message in messages:
            self._typed_label(message)
            self._bare_place(message)
            self._keep_crisis(message)
            self._mark_return(message)
        return messages

    def _typed_label(self, message: Message) -> None:
        intent = self._labels.get(fold_label(str(message.get(TEXT) or "")))
        if intent is None:
            return
        self._set(message, intent)

    @staticmethod
    def _set(message: Message, intent: str) -> None:
        """`intent` at confidence 1.0, first in the ranking (the others kept below it for the trainers' view)."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [{"name": intent, "confidence": 1.0}] + [r for r in ranking if r.get("name") != intent],
            add_to_output=True,
        )

    def _bare_place(self, message: Message) -> None:
        intent = (message.get(INTENT) or {}).get("name")
        if intent not in self._overridable:
            return
        text = str(message.get(TEXT) or "")
        for entity in message.get("entities") or []:
            if entity.get("entity") != self._place_entity:
                continue
            rest = text[: int(entity.get("start", 0))] + text[int(entity.get("end", 0)):]
            if fold_label(rest) in self._place_endings:
                self._set(message, self._place_intent)
                return

    def _keep_crisis(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get("name") != "nlu_fallback":
            return
        for ranked in message.get(INTENT_RANKING_KEY) or []:
            if ranked.get("name") == "nlu_fallback":
                continue
            if ranked.get("name") == "crisis" and float(ranked.get("confidence") or 0) >= self._crisis_floor:
                message.set(INTENT, {"name": "crisis", "confidence": ranked["confidence"]}, add_to_output=True)
            return

    def _mark_return(self, message: Message) -> None:
        metadata: dict[str, Any] | None = message.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("event") != "return":
            return
        intent = message.get(INTENT) or {}
        if intent.get("name") not in self._overridable:
            return
        self._set(message, RETURN_INTENT)

    def process_training_data(self, training_data: Any) -> Any:
        """Nothing to learn."""
        return training_data
