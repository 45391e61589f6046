"""From a trial table to labelled arrays, and subject-grouped cross-validation.

A *trial table* has one row per trial, the id columns :data:`ID_COLUMNS`
(``subject`` is required, the others are optional), numeric feature columns
(NaN where a feature could not be measured) and a binary label column.

Labels are mapped to 0/1 explicitly and the mapping is recorded as
``classes = (value of class 0, value of class 1)``; class 1 is the *positive*
class whose probability the classifier reports:

- bool labels: ``False`` -> 0, ``True`` -> 1;
- numbers 0 and 1 (or the strings ``"0"``/``"1"``): as they are;
- two other strings: the one named by ``positive``; without it, ``"inhibited"``
  is positive when present (a practitioner's manual muscle test), else the
  caller must say which value is positive.

Features are either an explicit list (each must exist and be numeric) or every
numeric column except the id columns and the label; other non-numeric columns
are skipped and logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone

from nkt_motion.assess.classify import CompensationClassifier, group_splits
from nkt_motion.assess.metrics import CVReport, calibration_table, score_fold
from nkt_motion.errors import ValidationError

__all__ = [
    "ID_COLUMNS",
    "TrialData",
    "cross_validate",
    "evaluate_held_out",
    "prepare_table",
]

logger = logging.getLogger(__name__)

#: Id columns of a trial table; never used as features.
ID_COLUMNS: Final[tuple[str, ...]] = ("subject", "session", "protocol", "side", "phase", "trial")


@dataclass(frozen=True, slots=True)
class TrialData:
    """A trial table checked and split into features, 0/1 labels and subjects.

    Parameters
    ----------
    X : pandas.DataFrame, shape (n_trials, n_features)
        Float64 features, NaN where not measured.
    y : ndarray of int, shape (n_trials,)
        0/1 class of each trial.
    subjects : ndarray of str, shape (n_trials,)
        Subject of each trial.
    classes : tuple of str
        Label value of class 0 and of class 1 (positive).
    label : str
        Name of the label column.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"subject": ["a", "b"], "f": [1.0, 2.0], "label": [0, 1]})
    >>> prepare_table(t).features
    ('f',)
    """

    X: pd.DataFrame
    y: NDArray[np.int64]
    subjects: NDArray[Any]
    classes: tuple[str, str]
    label: str

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the feature columns, in order."""
        return tuple(str(c) for c in self.X.columns)

    @property
    def n_subjects(self) -> int:
        """Number of distinct subjects."""
        return len(np.unique(self.subjects))

    def fingerprint(self) -> str:
        """SHA-256 of features, labels and subjects (to recognise the training table).

        Returns
        -------
        str
            Hex digest.
        """
        h = hashlib.sha256()
        h.update("\x1f".join(self.features).encode())
        h.update(np.ascontiguousarray(self.X.to_numpy(dtype=np.float64)).tobytes())
        h.update(self.y.tobytes())
        h.update("\x1f".join(self.subjects.tolist()).encode())
        h.update("\x1f".join(self.classes).encode())
        return h.hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | float | np.integer | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text.capitalize() if text.lower() in ("true", "false") else text


def _infer_classes(values: list[str], label: str, positive: str | None) -> tuple[str, str]:
    uniq = sorted(set(values))
    if len(uniq) != 2:
        what = "one class only" if len(uniq) == 1 else f"{len(uniq)} classes"
        raise ValidationError(
            f"label column {label!r} has {what} ({uniq[:5]}); a binary label needs two",
            parameter="label",
        )
    for natural in (["0", "1"], ["False", "True"]):
        if positive is None and uniq == natural:
            return natural[0], natural[1]
    pos = positive if positive is not None else ("inhibited" if "inhibited" in uniq else None)
    if pos is None or pos not in uniq:
        raise ValidationError(
            f"label column {label!r} holds {uniq}; say which value is the positive class "
            f"(positive=...), got {positive!r}",
            parameter="positive",
        )
    return (uniq[0] if uniq[1] == pos else uniq[1]), pos


def _labels(
    table: pd.DataFrame, label: str, positive: str | None, classes: Sequence[str] | None
) -> tuple[NDArray[np.int64], tuple[str, str]]:
    if label not in table.columns:
        have = [str(c) for c in table.columns]
        raise ValidationError(
            f"label column {label!r} not in the table; columns are {have}",
            parameter="label",
        )
    col = table[label]
    if col.isna().any():
        raise ValidationError(
            f"label column {label!r} has {int(col.isna().sum())} missing value(s)",
            parameter="label",
        )
    values = [_canonical(v) for v in col.tolist()]
    if classes is None:
        mapped = _infer_classes(values, label, positive)
    else:
        mapped = (str(classes[0]), str(classes[1]))
        unknown = sorted(set(values) - set(mapped))
        if unknown:
            raise ValidationError(
                f"label column {label!r} holds {unknown}, expected only {list(mapped)}",
                parameter="label",
            )
    y = np.array([1 if v == mapped[1] else 0 for v in values], dtype=np.int64)
    return y, mapped


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _select_features(table: pd.DataFrame, label: str, features: Sequence[str] | None) -> list[str]:
    excluded = {*ID_COLUMNS, label}
    if features is None:
        names = [str(c) for c in table.columns if c not in excluded]
        skipped = [c for c in names if not _is_numeric(table[c])]
        if skipped:
            logger.info("skipping non-numeric columns %s", skipped)
        chosen = [c for c in names if c not in skipped]
        if not chosen:
            raise ValidationError("the table has no numeric feature column", parameter="features")
        return chosen
    chosen = list(features)
    if not chosen:
        raise ValidationError("features must name at least one column", parameter="features")
    for c in chosen:
        if c not in table.columns:
            raise ValidationError(f"feature column {c!r} not in the table", parameter="features")
        if c in excluded:
            raise ValidationError(
                f"column {c!r} is an id or the label, not a feature", parameter="features"
            )
        if not _is_numeric(table[c]):
            raise ValidationError(
                f"feature column {c!r} is not numeric (dtype {table[c].dtype})",
                parameter="features",
            )
    return chosen


def prepare_table(
    table: pd.DataFrame,
    *,
    label: str = "label",
    features: Sequence[str] | None = None,
    positive: str | None = None,
    classes: Sequence[str] | None = None,
) -> TrialData:
    """Check a trial table and split it into features, 0/1 labels and subjects.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per trial with a ``subject`` column, features and the label.
    label : str
        Name of the label column.
    features : sequence of str, optional
        Feature columns; default every numeric column except ids and the label.
    positive : str, optional
        Label value of the positive class (see the module notes).
    classes : sequence of two str, optional
        A fixed mapping ``(class 0, class 1)``, e.g. from a model card; the table
        may then hold one class only.

    Returns
    -------
    TrialData
        The checked data.

    Raises
    ------
    ValidationError
        Empty table; missing ``subject`` or label column; a label that is not
        binary; a missing, id or non-numeric feature column; infinite values.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"subject": ["a", "a", "b"], "log_ratio_GMED_ADL": [0.1, -0.3, 0.2],
    ...                   "label": ["facilitated", "inhibited", "facilitated"]})
    >>> d = prepare_table(t)
    >>> d.classes, d.y.tolist()
    (('facilitated', 'inhibited'), [0, 1, 0])
    """
    if len(table) == 0:
        raise ValidationError("the trial table is empty", parameter="table")
    if "subject" not in table.columns:
        raise ValidationError("the trial table has no 'subject' column", parameter="table")
    y, mapped = _labels(table, label, positive, classes)
    names = _select_features(table, label, features)
    X = table[names].astype(np.float64).reset_index(drop=True)
    bad = [c for c in names if np.isinf(X[c].to_numpy()).any()]
    if bad:
        raise ValidationError(f"feature columns {bad} hold infinite values", parameter="features")
    subjects = np.asarray([str(s) for s in table["subject"].tolist()], dtype=object)
    return TrialData(X=X, y=y, subjects=subjects, classes=mapped, label=label)


def cross_validate(
    data: TrialData,
    estimator: CompensationClassifier | None = None,
    *,
    n_splits: int = 5,
    random_state: int = 0,
    n_bins: int = 5,
) -> CVReport:
    """Subject-grouped cross-validation of a (calibrated) compensation classifier.

    Folds come from :func:`~nkt_motion.assess.classify.group_splits`: no subject
    has trials in both the training and the test part of a fold. Each fold fits a
    clone of ``estimator`` on the training subjects (with their groups, so its
    inner calibration is grouped too) and predicts the test subjects.

    Parameters
    ----------
    data : TrialData
        The prepared table (needs two classes and at least two subjects).
    estimator : CompensationClassifier, optional
        Unfitted template; default ``CompensationClassifier()``.
    n_splits : int
        Wanted number of folds (reduced to what the subjects and classes allow).
    random_state : int
        Seed of the fold assignment.
    n_bins : int
        Bins of the calibration table.

    Returns
    -------
    CVReport
        Per-fold and pooled out-of-fold metrics.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 40)
    >>> t = pd.DataFrame({"subject": np.repeat(np.arange(8), 10), "label": y,
    ...                   "log_ratio_GMED_ADL": rng.normal(size=80) - y})
    >>> cross_validate(prepare_table(t), n_splits=4).n_splits
    4
    """
    template = CompensationClassifier() if estimator is None else estimator
    splits = group_splits(data.y, data.subjects, n_splits=n_splits, random_state=random_state)
    oof = np.full(len(data.y), np.nan)
    folds = []
    for i, (tr, te) in enumerate(splits):
        model = clone(template).fit(data.X.iloc[tr], data.y[tr], groups=data.subjects[tr])
        proba = model.predict_proba(data.X.iloc[te])[:, list(model.classes_).index(1)]
        oof[te] = proba
        folds.append(score_fold(data.y[te], proba, name=f"fold {i}", subjects=data.subjects[te]))
        logger.info("fold %d: %d test trials", i, len(te))
    return _report(data, oof, folds, template.kind, len(splits), random_state, n_bins)


def evaluate_held_out(
    estimator: CompensationClassifier, data: TrialData, *, n_bins: int = 5
) -> CVReport:
    """Metrics of a fitted classifier on a separate labelled table.

    Parameters
    ----------
    estimator : CompensationClassifier
        Fitted on other trials (ideally other subjects), with classes 0 and 1.
    data : TrialData
        The held-out table, prepared with the same features and classes.
    n_bins : int
        Bins of the calibration table.

    Returns
    -------
    CVReport
        One "held-out" set of metrics (``held_out=True``, ``n_splits=0``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> t = pd.DataFrame({"subject": np.repeat(np.arange(6), 10), "label": np.tile([0, 1], 30),
    ...                   "f": rng.normal(size=60) + np.tile([0, 2], 30)})
    >>> d = prepare_table(t)
    >>> clf = CompensationClassifier().fit(d.X, d.y, groups=d.subjects)
    >>> evaluate_held_out(clf, d).held_out
    True
    """
    proba = estimator.predict_proba(data.X)[:, list(estimator.classes_).index(1)]
    fold = score_fold(data.y, proba, name="held-out", subjects=data.subjects)
    return _report(data, proba, [fold], estimator.kind, 0, 0, n_bins, held_out=True)


def _report(
    data: TrialData,
    proba: NDArray[np.float64],
    folds: list[Any],
    kind: str,
    n_splits: int,
    random_state: int,
    n_bins: int,
    *,
    held_out: bool = False,
) -> CVReport:
    rate = float(data.y.mean())
    overall = score_fold(
        data.y, proba, name="held-out" if held_out else "overall", subjects=data.subjects
    )
    return CVReport(
        kind=kind,
        classes=data.classes,
        n_subjects=data.n_subjects,
        n_trials=len(data.y),
        n_splits=n_splits,
        random_state=random_state,
        folds=tuple(folds),
        overall=overall,
        brier_reference=float(np.mean((data.y - rate) ** 2)),
        calibration=calibration_table(data.y, proba, n_bins=n_bins),
        held_out=held_out,
    )
