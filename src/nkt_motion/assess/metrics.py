"""Metrics of a binary compensation classifier: per fold, overall and calibration.

All metrics take the positive class as 1 (the class the probability is for).
A fold whose test trials hold one class only has no ROC AUC: it is reported as
NaN with the reason in ``roc_auc_note``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    roc_auc_score,
)

from nkt_motion.errors import ValidationError

__all__ = ["CVReport", "CalibrationBin", "FoldMetrics", "calibration_table", "score_fold"]


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One bin of a calibration (reliability) table.

    Parameters
    ----------
    lower, upper : float
        Bin edges of the predicted probability, ``lower <= p < upper`` (the last
        bin includes 1).
    n : int
        Number of trials whose prediction falls in the bin.
    mean_predicted : float
        Mean predicted probability in the bin (NaN when empty).
    observed_rate : float
        Fraction of those trials that are positive (NaN when empty).

    Examples
    --------
    >>> CalibrationBin(0.0, 0.5, 2, 0.25, 0.5).n
    2
    """

    lower: float
    upper: float
    n: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True, slots=True)
class FoldMetrics:
    """Metrics of one set of test trials (a fold, or all out-of-fold predictions).

    Parameters
    ----------
    name : str
        ``"fold 0"``, ..., ``"overall"`` or ``"held-out"``.
    n_trials : int
        Number of test trials.
    test_subjects : tuple of str
        Subjects whose trials were tested.
    balanced_accuracy : float
        Mean recall of the two classes at threshold 0.5.
    roc_auc : float
        Area under the ROC curve; NaN when the test trials hold one class.
    roc_auc_note : str
        Why ``roc_auc`` is NaN, else empty.
    brier : float
        Mean squared error of the probability (lower is better).
    confusion : tuple of tuple of int
        ``((tn, fp), (fn, tp))``: rows true class 0/1, columns predicted 0/1.

    Examples
    --------
    >>> m = score_fold([0, 1, 1], [0.2, 0.7, 0.4], name="fold 0", subjects=["a", "b", "b"])
    >>> m.confusion
    ((1, 0), (1, 1))
    """

    name: str
    n_trials: int
    test_subjects: tuple[str, ...]
    balanced_accuracy: float
    roc_auc: float
    roc_auc_note: str
    brier: float
    confusion: tuple[tuple[int, int], tuple[int, int]]


def _check_binary(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    p = np.asarray(y_prob, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1 or len(y) == 0:
        raise ValidationError(
            f"y_true and y_prob must be 1-D of the same non-zero length, got {y.shape} and "
            f"{p.shape}",
            parameter="y_prob",
        )
    if not np.isin(y, (0, 1)).all():
        raise ValidationError("y_true must hold 0 and 1 only", parameter="y_true")
    if not ((p >= 0) & (p <= 1)).all():
        raise ValidationError("y_prob must lie in [0, 1]", parameter="y_prob")
    return y.astype(np.int64), p


def score_fold(
    y_true: ArrayLike, y_prob: ArrayLike, *, name: str, subjects: ArrayLike
) -> FoldMetrics:
    """Score probabilities of the positive class against 0/1 truth.

    Parameters
    ----------
    y_true : array-like of {0, 1}, shape (n_trials,)
        True class.
    y_prob : array-like of float, shape (n_trials,)
        Predicted probability of class 1.
    name : str
        Name of this set of trials.
    subjects : array-like, shape (n_trials,)
        Subject of each trial (recorded as the sorted unique set).

    Returns
    -------
    FoldMetrics
        The metrics.

    Examples
    --------
    >>> score_fold([0, 0], [0.1, 0.2], name="f", subjects=["a", "a"]).roc_auc_note
    'test trials hold one class only'
    """
    y, p = _check_binary(y_true, y_prob)
    pred = (p >= 0.5).astype(np.int64)
    one_class = len(np.unique(y)) < 2
    cm = confusion_matrix(y, pred, labels=[0, 1])
    return FoldMetrics(
        name=name,
        n_trials=len(y),
        test_subjects=tuple(sorted({str(s) for s in np.asarray(subjects).tolist()})),
        balanced_accuracy=math.nan if one_class else float(balanced_accuracy_score(y, pred)),
        roc_auc=math.nan if one_class else float(roc_auc_score(y, p)),
        roc_auc_note="test trials hold one class only" if one_class else "",
        brier=float(brier_score_loss(y, p, pos_label=1)),
        confusion=((int(cm[0, 0]), int(cm[0, 1])), (int(cm[1, 0]), int(cm[1, 1]))),
    )


def calibration_table(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 5
) -> tuple[CalibrationBin, ...]:
    """Bin predicted probabilities into equal-width bins and compare with outcomes.

    Parameters
    ----------
    y_true : array-like of {0, 1}, shape (n_trials,)
        True class.
    y_prob : array-like of float, shape (n_trials,)
        Predicted probability of class 1.
    n_bins : int
        Number of equal-width bins over [0, 1], >= 1.

    Returns
    -------
    tuple of CalibrationBin
        One entry per bin, empty bins included (with NaN means).

    Examples
    --------
    >>> [b.n for b in calibration_table([0, 1, 1], [0.1, 0.8, 0.9], n_bins=2)]
    [1, 2]
    """
    y, p = _check_binary(y_true, y_prob)
    if n_bins < 1:
        raise ValidationError(f"n_bins must be >= 1, got {n_bins}", parameter="n_bins")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        sel = idx == b
        n = int(sel.sum())
        bins.append(
            CalibrationBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                n=n,
                mean_predicted=float(p[sel].mean()) if n else math.nan,
                observed_rate=float(y[sel].mean()) if n else math.nan,
            )
        )
    return tuple(bins)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value


def _none_to_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, slots=True)
class CVReport:
    """Metrics of a subject-grouped cross-validation or of a held-out evaluation.

    Parameters
    ----------
    kind : str
        Classifier kind.
    classes : tuple of str
        Original label values for class 0 and class 1 (the positive class).
    n_subjects, n_trials : int
        Size of the evaluated table.
    n_splits : int
        Number of folds actually used (0 for a held-out evaluation).
    random_state : int
        Seed of the split.
    folds : tuple of FoldMetrics
        One entry per fold (the single held-out set for a held-out evaluation).
    overall : FoldMetrics
        Metrics of all out-of-fold (or held-out) predictions pooled.
    brier_reference : float
        Brier score of always predicting the observed positive rate.
    calibration : tuple of CalibrationBin
        Calibration table of the pooled predictions.
    held_out : bool
        True when a trained model was applied to a separate table.

    Examples
    --------
    >>> m = score_fold([0, 1], [0.2, 0.9], name="overall", subjects=["a", "b"])
    >>> r = CVReport("logistic", ("facilitated", "inhibited"), 2, 2, 0, 0, (m,), m, 0.25,
    ...              calibration_table([0, 1], [0.2, 0.9], n_bins=2), held_out=True)
    >>> CVReport.from_dict(r.to_dict()) == r
    True
    """

    kind: str
    classes: tuple[str, str]
    n_subjects: int
    n_trials: int
    n_splits: int
    random_state: int
    folds: tuple[FoldMetrics, ...]
    overall: FoldMetrics
    brier_reference: float
    calibration: tuple[CalibrationBin, ...] = field(default=())
    held_out: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (NaN becomes ``None``).

        Returns
        -------
        dict
            Every field, nested dataclasses as dictionaries.
        """
        return dict(_nan_to_none(asdict(self)))

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialise to JSON text (NaN written as ``null``).

        Parameters
        ----------
        indent : int or None
            JSON indentation.

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CVReport:
        """Rebuild a report from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            The dictionary.

        Returns
        -------
        CVReport
            The report.
        """
        folds = tuple(_fold_from_dict(f) for f in data["folds"])
        bins = tuple(
            CalibrationBin(
                lower=float(b["lower"]),
                upper=float(b["upper"]),
                n=int(b["n"]),
                mean_predicted=_none_to_nan(b["mean_predicted"]),
                observed_rate=_none_to_nan(b["observed_rate"]),
            )
            for b in data["calibration"]
        )
        return cls(
            kind=str(data["kind"]),
            classes=(str(data["classes"][0]), str(data["classes"][1])),
            n_subjects=int(data["n_subjects"]),
            n_trials=int(data["n_trials"]),
            n_splits=int(data["n_splits"]),
            random_state=int(data["random_state"]),
            folds=folds,
            overall=_fold_from_dict(data["overall"]),
            brier_reference=_none_to_nan(data["brier_reference"]),
            calibration=bins,
            held_out=bool(data["held_out"]),
        )

    def summary(self) -> str:
        """Human-readable multi-line summary.

        Returns
        -------
        str
            One line per fold, the pooled metrics and the calibration table.
        """
        what = (
            "held-out evaluation" if self.held_out else f"{self.n_splits}-fold subject-grouped CV"
        )
        lines = [
            f"{self.kind} classifier, {what}: {self.n_trials} trials, {self.n_subjects} subjects",
            f"positive class: {self.classes[1]!r} (vs {self.classes[0]!r})",
        ]
        for m in (*self.folds, self.overall):
            auc = f"{m.roc_auc:.3f}" if not math.isnan(m.roc_auc) else f"nan ({m.roc_auc_note})"
            lines.append(
                f"  {m.name:<8} n={m.n_trials:<4} balanced_accuracy={m.balanced_accuracy:.3f} "
                f"roc_auc={auc} brier={m.brier:.3f} confusion={[list(r) for r in m.confusion]}"
            )
        lines.append(f"  brier of the constant predictor: {self.brier_reference:.3f}")
        lines.append("  calibration (predicted -> observed, n):")
        for b in self.calibration:
            if b.n:
                lines.append(
                    f"    [{b.lower:.1f}, {b.upper:.1f}) "
                    f"{b.mean_predicted:.2f} -> {b.observed_rate:.2f} (n={b.n})"
                )
        return "\n".join(lines)


def _fold_from_dict(d: dict[str, Any]) -> FoldMetrics:
    (tn, fp), (fn, tp) = d["confusion"]
    return FoldMetrics(
        name=str(d["name"]),
        n_trials=int(d["n_trials"]),
        test_subjects=tuple(str(s) for s in d["test_subjects"]),
        balanced_accuracy=_none_to_nan(d["balanced_accuracy"]),
        roc_auc=_none_to_nan(d["roc_auc"]),
        roc_auc_note=str(d["roc_auc_note"]),
        brier=_none_to_nan(d["brier"]),
        confusion=((int(tn), int(fp)), (int(fn), int(tp))),
    )
