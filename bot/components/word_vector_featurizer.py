"""Averaged Japanese word vectors (chiVe, shipped in the ja-ginza package) as a dense sentence feature.

Why: the lemma and character n-gram counts only know words seen in training. A short reply such as 「もちろん」 or
「ばいちゃ」 shares no n-gram with the affirm/goodbye examples and ended up in the biggest class (crisis).
Word vectors place unseen words near seen ones with the same meaning; in honest 5-fold cross-validation they
raised macro-F1 by about 0.015 and crisis precision from 0.75 to 0.81.

The vectors are the 20,000 × 300 chiVe table of ja-ginza 5.1.3 (a PyPI package, MIT; chiVe: Apache-2.0), read
directly from the installed package: only its vocab/ folder is used, not the GiNZA pipeline, so nothing is
downloaded at run time and the SudachiPy tokenizer stays ours. A token is looked up by its surface, then by its
SudachiPy normalized form (the lemma); keys are spaCy's string hashes. Unknown tokens are skipped; the sentence
feature is the mean of the unit vectors, L2-normalized and multiplied by `weight` (its scale against the
TF-IDF rows, which have norm 1, in the linear classifier).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


def vocab_dir(package: str) -> Path:
    """The vocab/ folder (vectors, key2row) of an installed spaCy model package such as ja_ginza."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"WordVectorFeaturizer: the package {package!r} is not installed (requirements/bot.lock)")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob("*/vocab/vectors"))
    if not found:
        raise ValueError(f"WordVectorFeaturizer: no */vocab/vectors in {root}")
    return found[-1].parent


@lru_cache(maxsize=2)
def load_vectors(package: str) -> tuple[np.ndarray, dict[int, int]]:
    """Unit-length vector table and key → row map; cached, so cross-validation folds load it once."""
    import srsly

    folder = vocab_dir(package)
    table = np.load(folder / "vectors", allow_pickle=False).astype(np.float32)
    norms = np.linalg.norm(table, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    key2row = srsly.msgpack_loads((folder / "key2row").read_bytes())
    logger.debug("WordVectorFeaturizer: %d vectors, %d keys from %s", table.shape[0], len(key2row), folder)
    return table / norms, {int(k): int(v) for k, v in key2row.items()}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class WordVectorFeaturizer(DenseFeaturizer, GraphComponent):
    """Mean chiVe vector of the message's tokens (surface, else lemma) as sentence feature."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Needs tokens (bot.components.japanese_tokenizer.JapaneseTokenizer)."""
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        """ja_ginza ships the vectors; spaCy (its dependency) gives the string hash."""
        return ["ja_ginza", "spacy", "srsly"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Package holding the vectors and the weight of the feature."""
        return {**DenseFeaturizer.get_default_config(), "package": "ja_ginza", "weight": 2.0}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Loads the vector table (once per process)."""
        super().__init__(name, {**self.get_default_config(), **config})
        self._weight = float(self._config["weight"])
        self._table, self._key2row = load_vectors(str(self._config["package"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> WordVectorFeaturizer:
        """Creates the component (see the parent class)."""
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """A positive weight."""
        if float(config.get("weight", 2.0)) <= 0:
            raise ValueError("WordVectorFeaturizer: weight must be positive")

    def _row(self, word: str | None) -> int | None:
        from spacy.strings import hash_string

        return self._key2row.get(hash_string(word)) if word else None

    def _features(self, message: Message) -> tuple[np.ndarray, np.ndarray] | None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        if not tokens:
            return None
        dim = self._table.shape[1]
        sequence = np.zeros((len(tokens), dim), dtype=np.float32)
        for i, token in enumerate(tokens):
            row = self._row(token.text)
            if row is None:
                row = self._row(token.lemma) if token.lemma != token.text else None
            if row is None and token.lemma:
                row = self._row(token.lemma.lower())
            if row is not None:
                sequence[i] = self._table[row]
        found = sequence[np.any(sequence != 0, axis=1)]
        sentence = found.mean(axis=0) if len(found) else np.zeros(dim, dtype=np.float32)
        norm = float(np.linalg.norm(sentence))
        if norm:
            sentence = sentence / norm
        return sequence, (sentence * self._weight).reshape(1, -1).astype(np.float32)

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds sequence and sentence features of the text."""
        for message in messages:
            features = self._features(message)
            if features is not None:
                self.add_features_to_message(features[0], features[1], TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes the training examples in place."""
        self.process(training_data.training_examples)
        return training_data
