"""Last word on the intent, after the intent classifier and the FallbackClassifier.

1. Crisis never falls back: if the FallbackClassifier replaced the intent with `nlu_fallback` but the
   classifier's best guess was `crisis` (confidence >= `crisis_floor`), the intent is set back to `crisis`.
   A missed crisis costs far more than a needless escalation (R13).
2. The first message after a counsellor resolved the conversation becomes `return_visit`. Why: the gateway
   signals it only in the message metadata (`event: "return"`), which policies cannot see. Light intents
   (greetings, small talk, fallback …) are turned into `return_visit`, so the bot greets back briefly.
   Safety-relevant and concrete intents (crisis, asking for a person, withdrawing consent, worries, questions)
   are left alone so the user's request is answered directly.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

RETURN_INTENT = "return_visit"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentGuard(GraphComponent):
    """Restores low-confidence crisis; maps light intents to `return_visit` on metadata.event == "return"."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Intents that may be replaced (everything else keeps its meaning)."""
        return {
            "crisis_floor": 0.25,
            "overridable_intents": [
                "greet", "follow", "return_visit", "chitchat", "out_of_scope", "nlu_fallback",
                "thanks", "affirm", "deny", "goodbye",
            ],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the set of overridable intents."""
        self._overridable = set(config.get("overridable_intents") or [])
        self._crisis_floor = float(config.get("crisis_floor", 0.25))

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
            self._keep_crisis(message)
            self._mark_return(message)
        return messages

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
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT, {"name": RETURN_INTENT, "confidence": 1.0}, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [{"name": RETURN_INTENT, "confidence": 1.0}] + [r for r in ranking if r.get("name") != RETURN_INTENT],
            add_to_output=True,
        )

    def process_training_data(self, training_data: Any) -> Any:
        """Nothing to learn."""
        return training_data
