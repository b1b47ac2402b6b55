"""The exported linear classifier: loading its weights file and scoring features with NumPy.

The file (`nlp/model/classifier.npz`) is written by `nlp.training`; inference needs only NumPy.
A message's vector holds each known feature's scale (IDF) and is L2-normalised; scoring is a
sparse dot product over the hundred or so features it contains.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nlp.features import MessageFeatures
from nlp.labels import Label

FORMAT_VERSION = 2
MODEL_FILE_NAME = "classifier.npz"

FloatArray = npt.NDArray[np.float64]


class ModelFileError(RuntimeError):
    """The weights file is missing or not one this code can read."""


def default_model_path() -> Path:
    """Path of the model shipped in the package."""
    return Path(str(resources.files("nlp.model") / MODEL_FILE_NAME))


def _text_blob(text: str) -> npt.NDArray[np.uint8]:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _blob_text(blob: npt.NDArray[np.uint8]) -> str:
    return blob.tobytes().decode("utf-8")


@dataclass(frozen=True, slots=True)
class Scores:
    """Logits per label for one message, and the model rows of the features it contained."""

    logits: FloatArray
    rows: list[int]


class LinearModel:
    """Multinomial linear model over named sparse features."""

    __slots__ = (
        "_bias",
        "_index",
        "_scaled",
        "_squares",
        "labels",
        "metadata",
        "scales",
        "vocabulary",
        "weights",
    )

    def __init__(
        self,
        labels: tuple[Label, ...],
        vocabulary: list[str],
        scales: FloatArray,
        weights: FloatArray,
        bias: FloatArray,
        metadata: dict[str, object],
    ) -> None:
        shapes_match = (
            weights.shape == (len(vocabulary), len(labels))
            and scales.shape == (len(vocabulary),)
            and bias.shape == (len(labels),)
        )
        if not shapes_match:
            raise ModelFileError(
                f"weights {weights.shape}, scales {scales.shape} and bias {bias.shape} do not "
                f"match {len(vocabulary)} features x {len(labels)} labels"
            )
        self.labels = labels
        self.metadata = metadata
        self.vocabulary = vocabulary
        self.scales = scales
        self.weights = weights
        self._index = {name: row for row, name in enumerate(vocabulary)}
        # Folding the scales into the weights leaves one row sum per message at inference.
        self._scaled = weights * scales[:, np.newaxis]
        self._squares = scales * scales
        self._bias = bias

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a weights file written by `save`."""
        try:
            with np.load(path, allow_pickle=False) as data:
                metadata = json.loads(_blob_text(data["metadata"]))
                if metadata.get("format_version") != FORMAT_VERSION:
                    raise ModelFileError(
                        f"{path}: format_version {metadata.get('format_version')!r}, "
                        f"expected {FORMAT_VERSION}; run `linli train`"
                    )
                labels = tuple(Label(name) for name in _blob_text(data["labels"]).split("\n"))
                vocabulary = _blob_text(data["vocabulary"]).split("\n")
                scales = data["scales"].astype(np.float64)
                weights = data["weights"].astype(np.float64)
                bias = data["bias"].astype(np.float64)
        except (OSError, KeyError, ValueError) as error:
            raise ModelFileError(f"{path}: cannot read classifier weights: {error}") from error
        return cls(labels, vocabulary, scales, weights, bias, metadata)

    def save(self, path: Path) -> None:
        """Write the model as a compressed .npz file (weights stored as float32)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                labels=_text_blob("\n".join(label.value for label in self.labels)),
                vocabulary=_text_blob("\n".join(self.vocabulary)),
                scales=self.scales.astype(np.float32),
                weights=self.weights.astype(np.float32),
                bias=self._bias.astype(np.float64),
                metadata=_text_blob(json.dumps(self.metadata, ensure_ascii=False, sort_keys=True)),
            )

    @property
    def feature_count(self) -> int:
        """Number of features the model knows."""
        return len(self._index)

    def score(self, features: MessageFeatures) -> Scores:
        """Logits of every label for a message's features; unknown features are ignored."""
        rows = [row for row in map(self._index.get, features.names) if row is not None]
        if not rows:
            return Scores(self._bias.copy(), rows)
        norm = math.sqrt(float(self._squares[rows].sum()))
        logits = self._scaled[rows].sum(axis=0) / norm + self._bias
        return Scores(logits, rows)

    def strongest(self, scores: Scores, label: Label) -> list[str]:
        """The message's features that pushed towards `label`, strongest first."""
        column = self.labels.index(label)
        weights = self._scaled[scores.rows, column].tolist()
        # Equal weights are ordered by row, so the result is deterministic.
        positive = sorted(
            ((weight, row) for weight, row in zip(weights, scores.rows, strict=True) if weight > 0),
            reverse=True,
        )
        return [self.vocabulary[row] for _, row in positive]
