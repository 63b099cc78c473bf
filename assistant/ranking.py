"""Learned ranking: LightGBM LambdaMART models trained here, on labelled questions, and shipped in the repo.

No reranker model can be installed here, so the order of candidates (passages, sentences) is learned from
features we compute ourselves. This module holds what every such ranker shares: the model wrapper, its file
(next to the name and version of the feature set it was trained on: a mismatch is refused), a fixed seed,
grouped cross-validation (questions on the same evidence stay in one fold, so a fold never scores a question
whose evidence it was trained on), ranking metrics, Platt calibration of the scores, and the registry that
``ess-assistant train --qa FILE…`` walks to retrain every shipped model.

Shipped: the answer-sentence ranker of ``assistant/extractive.py`` (the worked example of the steps below); it also
orders the five passages ``retrieve`` returns first, by the best sentence each holds
(benchmarks/eval_passage_order.py). A passage ranker of its own, on passage-level features, was built with this
machinery and measured (benchmarks/eval_ranker.py): it did not beat the hybrid's fused order on grouped
cross-validation and lost four questions of R@5 on validation.

How a ranker plugs in:

1. Beside the code that uses it, declare ``FEATURES = FeatureSet("my-features", 1, ("f1", "f2", …))`` and one
   function computing the feature matrix of a question's candidates (rows = candidates, columns in that
   order). Use the same function at run time and for training; bump the version whenever what a column
   means changes, so an old model file is refused instead of silently misread.
2. Write ``examples(rows) -> Groups``: for each gold row (question, evidence quotes, source…), the feature
   matrix of its candidates, 0/1 labels (1 = holds a gold evidence quote, ``vectorstore.text.contains_quote``)
   and a fold key (e.g. the first evidence quote normalised, so paraphrases of one question share a fold).
   Questions without evidence are skipped; groups with no positive candidate are kept (metrics count them as
   misses; training ignores them).
3. ``register(RankerSpec("my-ranker", FEATURES, examples, params={…}))`` at import of that module, and add
   the module to ``PROVIDERS`` below so ``train`` finds it.
4. At run time: ``ranker = load_ranker("my-ranker", FEATURES)`` (cached, raises ``RankerError`` in French),
   then ``ranker.score(X)`` to order candidates or ``ranker.probability(X)`` for a calibrated
   P(relevant) (e.g. to abstain).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.settings import Settings

logger = logging.getLogger(__name__)

SEED = 13
SHIPPED_MODELS = Path(__file__).resolve().parent / "models"
# Modules that register a ranker when imported (see the module docstring).
PROVIDERS: tuple[str, ...] = ("assistant.extractive",)
FILE_FORMAT = 1
# Strong regularisation: a few hundred labelled questions, and the product is judged on unseen ones.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.05,
    "num_iterations": 150,
    "num_leaves": 7,
    "max_depth": 3,
    "min_data_in_leaf": 40,
    "lambda_l2": 10.0,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 20,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}


class RankerError(RuntimeError):
    """A model file that is missing, unreadable or made for other features (message in French)."""


@dataclass(frozen=True)
class FeatureSet:
    """The columns a ranker reads: a model trained on another name, version or columns is refused."""

    name: str
    version: int
    names: tuple[str, ...]

    def describe(self) -> str:
        return f"« {self.name} » v{self.version}"


@dataclass
class Groups:
    """Labelled candidates, one group per question; questions sharing a ``key`` stay in one CV fold."""

    features: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def add(self, features: np.ndarray, labels: Sequence[int] | np.ndarray, key: str) -> None:
        self.features.append(np.asarray(features, dtype=np.float64))
        self.labels.append(np.asarray(labels, dtype=np.int32))
        self.keys.append(key)

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, indices: Sequence[int]) -> Groups:
        return Groups([self.features[i] for i in indices], [self.labels[i] for i in indices],
                      [self.keys[i] for i in indices])  # fmt: skip

    def trainable(self) -> Groups:
        """The groups LambdaMART learns from: at least one relevant and one other candidate."""
        keep = [i for i, y in enumerate(self.labels) if 0 < y.sum() < len(y)]
        return self.subset(keep)


@dataclass(frozen=True)
class RankerSpec:
    """A ranker ``train`` knows how to rebuild: model file ``<name>.json``, its features, its examples."""

    name: str
    features: FeatureSet
    examples: Callable[[Sequence[dict[str, Any]]], Groups]
    params: Mapping[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, RankerSpec] = {}


def register(spec: RankerSpec) -> None:
    _REGISTRY[spec.name] = spec


def registered() -> dict[str, RankerSpec]:
    """Every ranker the shipped modules declare."""
    for module in PROVIDERS:
        importlib.import_module(module)
    return dict(_REGISTRY)


class Ranker:
    """A trained LambdaMART model with its feature set and a Platt calibration of its scores."""

    def __init__(self, features: FeatureSet, booster: Any, calibration: tuple[float, float], info: dict) -> None:
        self.features = features
        self.booster = booster
        self.calibration = calibration
        self.info = info

    def score(self, features: np.ndarray) -> np.ndarray:
        """Ranking scores (higher first), comparable within one question."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != len(self.features.names):
            raise ValueError(f"expected {len(self.features.names)} feature columns, got shape {features.shape}")
        if not len(features):
            return np.zeros(0)
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float64)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probability that each candidate is relevant."""
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-(a * self.score(features) + b)))

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FILE_FORMAT,
                "feature_set": self.features.name,
                "feature_version": self.features.version,
                "features": list(self.features.names),
                "calibration": list(self.calibration),
                "info": self.info,
                "model": self.booster.model_to_string(),
            },
            ensure_ascii=False,
            indent=1,
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path, expected: FeatureSet) -> Ranker:
        import lightgbm

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RankerError(
                f"Modèle de classement introuvable : {path}. Entraînez-le avec « ess-assistant train --qa "
                "questions.jsonl »."
            ) from None
        except (OSError, ValueError) as exc:
            raise RankerError(f"Modèle de classement illisible ({path}) : {exc}.") from None
        found = FeatureSet(
            data.get("feature_set", "?"), data.get("feature_version", -1), tuple(data.get("features", ()))
        )
        if data.get("format") != FILE_FORMAT or found != expected:
            raise RankerError(
                f"Le modèle de classement {path.name} a été entraîné sur les caractéristiques {found.describe()}, "
                f"mais cette version du programme calcule {expected.describe()} : réentraînez-le avec "
                "« ess-assistant train --qa questions.jsonl » ou réinstallez le modèle fourni."
            )
        booster = lightgbm.Booster(model_str=data["model"])
        a, b = data["calibration"]
        return cls(expected, booster, (float(a), float(b)), data.get("info", {}))


def models_dir(settings: Settings | None = None) -> Path:
    """Where models are read and written: ``ESS_MODELS_DIR`` if set, else the ones shipped in the package."""
    settings = settings or Settings.from_env()
    return settings.models_dir or SHIPPED_MODELS


def model_path(name: str, directory: Path | None = None) -> Path:
    return (directory or models_dir()) / f"{name}.json"


@lru_cache(maxsize=16)
def _load_cached(path: Path, mtime_ns: int, expected: FeatureSet) -> Ranker:
    return Ranker.load(path, expected)


def load_ranker(name: str, expected: FeatureSet) -> Ranker:
    """The model ``name`` for ``expected`` features; a retrained file is picked up on the next call."""
    path = model_path(name)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = -1
    return _load_cached(path, mtime, expected)


# --- training and measuring ---------------------------------------------------------------------------


def _stack(groups: Groups) -> tuple[np.ndarray, np.ndarray, list[int]]:
    return np.vstack(groups.features), np.concatenate(groups.labels), [len(y) for y in groups.labels]


def fit_booster(groups: Groups, params: Mapping[str, Any] | None = None) -> Any:
    """A LambdaMART booster on ``groups`` (deterministic: fixed seed, one thread)."""
    import lightgbm

    usable = groups.trainable()
    if not len(usable):
        raise RankerError("Aucune question utilisable pour l'entraînement : il faut des candidats pertinents.")
    features, labels, sizes = _stack(usable)
    merged = {**DEFAULT_PARAMS, **(params or {}), "seed": SEED}
    rounds = int(merged.pop("num_iterations"))
    dataset = lightgbm.Dataset(features, labels, group=sizes, params={"verbose": -1})
    return lightgbm.train(merged, dataset, num_boost_round=rounds)


def fold_of(key: str, folds: int) -> int:
    """A stable fold for a group key (a hash, so it does not depend on the order of the file)."""
    return int(hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest(), 16) % folds


def out_of_fold_scores(groups: Groups, params: Mapping[str, Any] | None = None, folds: int = 5) -> list[np.ndarray]:
    """Each group's scores from a model trained on the other folds (grouped by key)."""
    assignment = [fold_of(key, folds) for key in groups.keys]
    scores: list[np.ndarray] = [np.zeros(0)] * len(groups)
    for fold in range(folds):
        held = [i for i, f in enumerate(assignment) if f == fold]
        if not held:
            continue
        booster = fit_booster(groups.subset([i for i, f in enumerate(assignment) if f != fold]), params)
        for i in held:
            scores[i] = np.asarray(booster.predict(groups.features[i], num_threads=1), dtype=np.float64)
    return scores


def ranking_metrics(scores: Sequence[np.ndarray], labels: Sequence[np.ndarray], ks=(1, 5, 10)) -> dict[str, float]:
    """R@k (a relevant candidate in the top k) and MRR@10 over groups; a group with none relevant is a miss."""
    ranks = []
    for s, y in zip(scores, labels, strict=True):
        order = np.argsort(-np.asarray(s), kind="stable")
        hits = np.flatnonzero(np.asarray(y)[order] > 0)
        ranks.append(int(hits[0]) + 1 if len(hits) else None)
    n = max(1, len(ranks))
    out = {f"r@{k}": round(sum(r is not None and r <= k for r in ranks) / n, 3) for k in ks}
    out["mrr@10"] = round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 3)
    return out


def fit_calibration(scores: Sequence[np.ndarray], labels: Sequence[np.ndarray]) -> tuple[float, float]:
    """Platt scaling (a, b) of scores to P(relevant), fitted on out-of-fold scores so it holds on new questions."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([np.asarray(s) for s in scores]).reshape(-1, 1)
    y = np.concatenate([np.asarray(v) for v in labels])
    if len(set(y.tolist())) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1.0).fit(x, y)
    return float(model.coef_[0][0]), float(model.intercept_[0])


@dataclass(frozen=True)
class TrainReport:
    name: str
    questions: int
    cross_validated: dict[str, float]
    in_sample: dict[str, float]
    path: Path | None = None

    def summary(self) -> str:
        def fmt(m: dict[str, float]) -> str:
            return " ".join(f"{k.upper()} {v:.3f}" for k, v in m.items())

        where = f" → {self.path}" if self.path else ""
        return (
            f"{self.name} : {self.questions} questions{where}\n"
            f"  validation croisée : {fmt(self.cross_validated)}\n"
            f"  sur l'entraînement : {fmt(self.in_sample)}"
        )


def train(spec: RankerSpec, groups: Groups, folds: int = 5) -> tuple[Ranker, TrainReport]:
    """Cross-validate, then fit on everything; calibration comes from the out-of-fold scores."""
    oof = out_of_fold_scores(groups, spec.params, folds)
    booster = fit_booster(groups, spec.params)
    calibration = fit_calibration(oof, groups.labels)
    in_sample = [np.asarray(booster.predict(f, num_threads=1)) for f in groups.features]
    report = TrainReport(
        spec.name, len(groups), ranking_metrics(oof, groups.labels), ranking_metrics(in_sample, groups.labels)
    )
    info = {"questions": len(groups), "folds": folds, "seed": SEED, "cross_validated": report.cross_validated,
            "in_sample": report.in_sample}  # fmt: skip
    return Ranker(spec.features, booster, calibration, info), report


def train_all(
    rows: Sequence[dict[str, Any]], out_dir: Path | None = None, names: Sequence[str] | None = None, folds: int = 5
) -> list[TrainReport]:
    """Retrain every registered ranker (or ``names``) on ``rows`` and write the model files."""
    specs = registered()
    unknown = sorted(set(names or ()) - set(specs))
    if unknown:
        raise RankerError(f"Modèle inconnu : {', '.join(unknown)} (connus : {', '.join(sorted(specs))}).")
    reports = []
    for name, spec in sorted(specs.items()):
        if names and name not in names:
            continue
        logger.info("Training ranker %s", name)
        ranker, report = train(spec, spec.examples(rows), folds)
        path = ranker.save(model_path(name, out_dir))
        reports.append(TrainReport(report.name, report.questions, report.cross_validated, report.in_sample, path))
    return reports
