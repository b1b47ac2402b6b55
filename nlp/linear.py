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
from itertools import repeat
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
    rows: npt.NDArray[np.intp]


class LinearModel:
    """Multinomial linear model over named sparse features."""

    __slots__ = (
        "_bias",
        "_index",
        "_missing",
        "_table",
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
        # One table row per feature: its scale-folded weights, then its squared scale (for the
        # L2 norm), so that a single gather-and-sum scores a message. An extra all-zero row
        # stands for unknown features: looking them up needs no filtering, and they add nothing.
        self._table = np.zeros((len(vocabulary) + 1, len(labels) + 1))
        self._table[:-1, :-1] = weights * scales[:, np.newaxis]
        self._table[:-1, -1] = scales * scales
        self._missing = len(vocabulary)
        self._bias = bias

    @property
    def missing_row(self) -> int:
        """The row that `Scores.rows` holds for a feature the model does not know."""
        return self._missing

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

    @property
    def bias(self) -> FloatArray:
        """The intercept of every label."""
        return self._bias

    def score(self, features: MessageFeatures) -> Scores:
        """Logits of every label for a message's features; unknown features are ignored."""
        names = features.names
        found = list(map(self._index.get, names, repeat(self._missing, len(names))))
        rows = np.array(found, dtype=np.intp)
        totals = np.add.reduce(self._table.take(rows, axis=0), axis=0)
        squares = float(totals[-1])
        if squares <= 0.0:
            return Scores(self._bias.copy(), rows)
        return Scores(totals[:-1] / math.sqrt(squares) + self._bias, rows)

    def pushes(self, rows: npt.NDArray[np.intp], label: Label, against: Label) -> FloatArray:
        """How much each feature row pushes towards `label` rather than `against` (scaled)."""
        pushed: FloatArray = (
            self._table[rows, self.labels.index(label)]
            - self._table[rows, self.labels.index(against)]
        )
        return pushed
