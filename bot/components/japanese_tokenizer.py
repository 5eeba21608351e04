"""SudachiPy tokenizer for Rasa 3.6.

Why: Rasa's WhitespaceTokenizer refuses Japanese (no spaces between words). SudachiPy in split mode C keeps
compounds whole (「ヤングケアラー」, 「児童相談所」), and its normalized form folds spelling variants
(「しにたい」→「死ぬ」, 「やめる/辞める」) into one lemma, which is what CountVectorsFeaturizer uses by default.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

_SPLIT_MODES = ("A", "B", "C")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class JapaneseTokenizer(Tokenizer):
    """Tokenizes Japanese text with SudachiPy; lemma = normalized form, POS in token data."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Only Japanese: the dictionary is Japanese."""
        return ["ja"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config (Tokenizer base keys + split mode)."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "split_mode": "C",
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Packages needed at train and run time."""
        return ["sudachipy", "sudachidict_core"]

    def __init__(self, config: dict[str, Any]) -> None:
        """Builds the Sudachi tokenizer once; it is reused for every message."""
        super().__init__(config)
        from sudachipy import dictionary, tokenizer

        mode = str(self._config.get("split_mode", "C")).upper()
        if mode not in _SPLIT_MODES:
            raise ValueError(f"split_mode must be one of {_SPLIT_MODES}, got {mode!r}")
        self._mode = getattr(tokenizer.Tokenizer.SplitMode, mode)
        sudachi_dict = dictionary.Dictionary()
        # SudachiPy ≥0.6.9 prefers Dictionary.tokenizer(); older releases only have create().
        factory = getattr(sudachi_dict, "tokenizer", None) or sudachi_dict.create
        self._sudachi = factory(self._mode)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> JapaneseTokenizer:
        """Creates the component (see the parent class)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Splits the attribute's text into Sudachi morphemes, dropping whitespace."""
        text = message.get(attribute) or ""
        tokens: list[Token] = []
        for morpheme in self._sudachi.tokenize(text, self._mode):
            surface = morpheme.surface()
            if not surface.strip():
                continue
            pos = morpheme.part_of_speech()
            tokens.append(
                Token(
                    surface,
                    morpheme.begin(),
                    morpheme.end(),
                    data={"pos": pos[0], "pos_detail": pos[1]},
                    lemma=morpheme.normalized_form(),
                )
            )
        if not tokens and text:
            tokens.append(Token(text, 0, len(text), lemma=text))
        return self._apply_token_pattern(tokens)
