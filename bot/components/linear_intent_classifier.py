"""Linear SVM intent classifier over the pipeline's sparse features (TF-IDF weighted).

Why not DIET: on 2 CPU cores DIET needs minutes per training, and 5-fold cross-validation runs five trainings in
CI. On this data set (≈2,800 short Japanese messages, SudachiPy lemmas + character n-grams) a linear SVM
trains in about a second and scored higher in cross-validation than both DIET (no transformer layers) and Rasa's
LogisticRegressionClassifier, especially on crisis recall.

Confidences are a softmax of the SVM margins (`temperature` scales them) taken together with a "none of them"
margin (`none_margin`, default 0): a message no intent claims (every margin negative, e.g. gibberish) gets a low
confidence, so the FallbackClassifier can catch it. `class_weight` makes training errors on chosen intents cost
more (their boundary moves out where their examples are), `class_bias` adds a constant to their margins at
prediction time — both used for `crisis`, where a miss costs more than a needless escalation (R13). Weight 2 with
a small bias kept crisis recall for fewer false alarms than a bias alone in cross-validation.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """TF-IDF + LinearSVC on sentence-level sparse features, dense features (word vectors) appended as they are."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Needs featurizers before it."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        """scikit-learn (shipped with rasa) and skops for safe persistence."""
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """C of the SVM, softmax temperature, per-intent margin bias, ranking length."""
        return {
            "C": 1.0,
            "temperature": 4.0,
            "none_margin": 0.0,
            "class_bias": {},
            "class_weight": {},
            "ranking_length": 10,
            "random_state": 42,
        }

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, clf: Any = None
    ) -> None:
        """Keeps the config; `clf` is the fitted sklearn pipeline when loaded."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.clf = clf

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    @staticmethod
    def _features(messages: list[Message]) -> tuple[csr_matrix, int]:
        """Sentence features of the messages, sparse columns first, and how many columns are sparse."""
        rows = []
        n_sparse = 0
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            dense = message.get_dense_features(attribute=TEXT)[1]
            parts = [csr_matrix(sparse.features)] if sparse is not None else []
            n_sparse = parts[0].shape[1] if parts else 0
            if dense is not None:
                parts.append(csr_matrix(dense.features))
            rows.append(hstack(parts) if parts else csr_matrix((1, 0)))
        return vstack(rows).tocsr(), n_sparse

    def train(self, training_data: TrainingData) -> Resource:
        """Fits TF-IDF + LinearSVC on the intent examples and persists the pipeline."""
        from sklearn.compose import ColumnTransformer
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples: LinearIntentClassifier is not trained.")
            return self._resource
        X, n_sparse = self._features(examples)
        y = [e.get(INTENT) for e in examples]
        # TF-IDF weights the counts only; dense features (word vectors) pass through as they are.
        weighting: Any = TfidfTransformer(sublinear_tf=True)
        if X.shape[1] > n_sparse:
            weighting = ColumnTransformer(
                [("tfidf", weighting, slice(0, n_sparse)), ("dense", "passthrough", slice(n_sparse, X.shape[1]))],
                sparse_threshold=1.0,
            )
        self.clf = make_pipeline(
            weighting,
            LinearSVC(
                C=float(self.config["C"]),
                class_weight={k: float(v) for k, v in (self.config.get("class_weight") or {}).items()} or None,
                random_state=self.config["random_state"],
                dual=True,
                max_iter=5000,
            ),
        )
        self.clf.fit(X, y)
        self.persist()
        return self._resource

    def _confidences(self, X: csr_matrix) -> np.ndarray:
        margins = np.atleast_2d(self.clf.decision_function(X)).astype(float)
        classes = list(self.clf.classes_)
        for intent, bias in (self.config.get("class_bias") or {}).items():
            if intent in classes:
                margins[:, classes.index(intent)] += float(bias)
        none = np.full((margins.shape[0], 1), float(self.config["none_margin"]))
        scaled = np.hstack([margins, none]) * float(self.config["temperature"])
        scaled -= scaled.max(axis=1, keepdims=True)
        exp = np.exp(scaled)
        return (exp / exp.sum(axis=1, keepdims=True))[:, :-1]

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets `intent` and `intent_ranking` on each message."""
        if self.clf is None or not messages:
            return messages
        probabilities = self._confidences(self._features(messages)[0])
        classes = list(self.clf.classes_)
        length = int(self.config.get("ranking_length") or 0)
        for message, row in zip(messages, probabilities, strict=True):
            ranking = sorted(
                ({"name": c, "confidence": float(p)} for c, p in zip(classes, row, strict=True)),
                key=lambda r: -r["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data

    def persist(self) -> None:
        """Stores the fitted pipeline with skops (no pickle)."""
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.clf, model_dir / "linear_intent_classifier.skops")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Loads the fitted pipeline; an untrained component if there is none."""
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / "linear_intent_classifier.skops"
                clf: Any | None = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        except (ValueError, FileNotFoundError):
            logger.debug("LinearIntentClassifier: no trained model in storage.")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, clf)
