"""Compensation classifiers: scikit-learn pipelines with group-aware calibration.

:class:`CompensationClassifier` wraps one of two pipelines, chosen by ``kind``:

``"logistic"`` (default)
    median imputation with missing-value indicators, standard scaling and an
    L2-penalised logistic regression with balanced class weights. Its
    coefficients are readable, which suits a small clinical data set.
``"boosting"``
    a histogram gradient-boosted tree ensemble with balanced class weights; it
    handles missing values natively and captures interactions, at the price of
    needing more trials.

Probabilities are calibrated with :class:`sklearn.calibration.CalibratedClassifierCV`
(``method="sigmoid"``, Platt scaling, which needs few samples). The calibration is
**group aware**: when ``fit`` receives ``groups`` (the subject of each trial), the
inner splits come from :class:`~sklearn.model_selection.StratifiedGroupKFold`, so for
each inner split the pipeline is fitted on some subjects and the sigmoid is fitted
on the scores of *other* subjects. The fitted model averages the probabilities of
those (pipeline, sigmoid) pairs. Without ``groups`` every trial is its own group.

Fitting and prediction run on one thread (``threadpoolctl``): trial tables hold
hundreds of rows, where OpenMP/BLAS thread start-up and oversubscription cost far
more than they save (a boosting fit measured 20 times slower with two threads on a
busy two-core machine).

The classifier predicts a measurement-based likelihood that a trial looks like
compensation; it never makes a diagnosis.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from nkt_motion.assess.kinds import KINDS, Kind
from nkt_motion.errors import ValidationError

__all__ = ["KINDS", "CompensationClassifier", "group_splits", "make_pipeline"]

logger = logging.getLogger(__name__)

Split = tuple[NDArray[np.intp], NDArray[np.intp]]


def make_pipeline(
    kind: Kind = "logistic", *, C: float = 1.0, n_trees: int = 100, random_state: int = 0
) -> Pipeline:
    """Build the uncalibrated pipeline of one kind.

    Parameters
    ----------
    kind : {"logistic", "boosting"}
        ``"logistic"``: median imputation (+ missing indicators), standard scaling,
        L2 logistic regression with balanced class weights. ``"boosting"``:
        histogram gradient boosting with balanced class weights (NaN handled natively).
    C : float
        Inverse L2 strength of the logistic regression (ignored for boosting).
    n_trees : int
        Number of boosting iterations (ignored for logistic).
    random_state : int
        Seed of the boosting model (the logistic model is deterministic).

    Returns
    -------
    sklearn.pipeline.Pipeline
        An unfitted pipeline.

    Examples
    --------
    >>> [name for name, _ in make_pipeline("logistic").steps]
    ['impute', 'scale', 'model']
    """
    if kind == "logistic":
        return Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=C, class_weight="balanced", max_iter=2000)),
            ]
        )
    if kind == "boosting":
        model = HistGradientBoostingClassifier(
            max_iter=n_trees,
            learning_rate=0.1,
            max_depth=3,
            min_samples_leaf=5,
            class_weight="balanced",
            early_stopping=False,
            random_state=random_state,
        )
        return Pipeline([("model", model)])
    raise ValidationError(f"kind must be one of {KINDS}, got {kind!r}", parameter="kind")


def group_splits(
    y: ArrayLike, groups: ArrayLike, *, n_splits: int, random_state: int = 0
) -> list[Split]:
    """Split trials into folds that never share a group (subject).

    ``n_splits`` is reduced to what the data allow: at most the number of groups
    and at most the size of the smallest class. Every training fold is checked to
    hold every class, and every train/test pair is checked to share no group.

    Parameters
    ----------
    y : array-like, shape (n_trials,)
        Class of each trial.
    groups : array-like, shape (n_trials,)
        Group (subject) of each trial.
    n_splits : int
        Wanted number of folds, >= 2.
    random_state : int
        Seed for the order in which groups are dealt into folds.

    Returns
    -------
    list of (ndarray, ndarray)
        Train and test indices of each fold.

    Raises
    ------
    ValidationError
        Fewer than 2 groups or classes, or folds that cannot hold every class.

    Examples
    --------
    >>> splits = group_splits([0, 1, 0, 1, 0, 1], ["a", "a", "b", "b", "c", "c"], n_splits=5)
    >>> len(splits)
    3
    """
    y_arr = np.asarray(y)
    g_arr = np.asarray(groups)
    if n_splits < 2:
        raise ValidationError(f"n_splits must be >= 2, got {n_splits}", parameter="n_splits")
    n_groups = len(np.unique(g_arr))
    classes, counts = np.unique(y_arr, return_counts=True)
    if n_groups < 2:
        raise ValidationError(
            f"grouped cross-validation needs at least 2 subjects, got {n_groups}",
            parameter="groups",
        )
    if len(classes) < 2:
        raise ValidationError(
            f"the label has one class only ({classes.tolist()}); need two", parameter="y"
        )
    k = min(n_splits, n_groups, int(counts.min()))
    if k < 2:
        raise ValidationError(
            f"the rarest class has {int(counts.min())} trial(s); need at least 2", parameter="y"
        )
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=random_state)
    splits = [
        (np.asarray(tr, dtype=np.intp), np.asarray(te, dtype=np.intp))
        for tr, te in cv.split(np.zeros(len(y_arr)), y_arr, g_arr)
    ]
    for i, (tr, te) in enumerate(splits):
        shared = set(g_arr[tr].tolist()) & set(g_arr[te].tolist())
        if shared:
            raise ValidationError(f"fold {i}: subjects {sorted(shared)} in train and test")
        missing = set(classes.tolist()) - set(y_arr[tr].tolist())
        if missing:
            raise ValidationError(
                f"fold {i}: no training trial of class {sorted(missing)}; each class needs "
                f"trials from more subjects (have {n_groups} subjects)",
                parameter="y",
            )
    return splits


class CompensationClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated compensation classifier over a trial feature matrix.

    Parameters
    ----------
    kind : {"logistic", "boosting"}
        Which pipeline to calibrate (see :func:`make_pipeline`).
    C : float
        Inverse L2 strength of the logistic regression.
    n_trees : int
        Number of boosting iterations (``kind="boosting"`` only).
    calibration_splits : int
        Wanted number of inner, group-aware calibration folds (reduced to what the
        data allow, at least 2).
    random_state : int
        Seed of the inner split and of the boosting model.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Class labels seen in ``fit``.
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        The fitted, calibrated ensemble.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    n_groups_ : int
        Number of groups (subjects) seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
    >>> clf = CompensationClassifier().fit(X, y, groups=np.repeat(np.arange(10), 4))
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        kind: Kind = "logistic",
        *,
        C: float = 1.0,
        n_trees: int = 100,
        calibration_splits: int = 3,
        random_state: int = 0,
    ) -> None:
        self.kind = kind
        self.C = C
        self.n_trees = n_trees
        self.calibration_splits = calibration_splits
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: ArrayLike, y: ArrayLike, *, groups: ArrayLike | None = None) -> Any:
        """Fit the pipeline and its group-aware sigmoid calibration.

        Parameters
        ----------
        X : array-like, shape (n_trials, n_features)
            Features; NaN marks a feature that could not be measured.
        y : array-like, shape (n_trials,)
            Class of each trial.
        groups : array-like, shape (n_trials,), optional
            Subject of each trial; calibration never fits and calibrates on the
            same subject. Without it each trial is its own group.

        Returns
        -------
        CompensationClassifier
            The fitted estimator.
        """
        X_arr, y_arr = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y_arr)
        self.classes_ = np.unique(y_arr)
        if len(self.classes_) < 2:
            raise ValueError(
                f"Classifier can't train when only one class is present: {self.classes_}"
            )
        g_arr = np.arange(len(y_arr)) if groups is None else np.asarray(groups)
        if g_arr.shape != (len(y_arr),):
            raise ValidationError(
                f"groups must have shape ({len(y_arr)},), got {g_arr.shape}", parameter="groups"
            )
        splits = group_splits(
            y_arr, g_arr, n_splits=max(2, self.calibration_splits), random_state=self.random_state
        )
        pipe = make_pipeline(
            self.kind, C=self.C, n_trees=self.n_trees, random_state=self.random_state
        )
        self.calibrated_ = CalibratedClassifierCV(pipe, method="sigmoid", cv=splits)
        with threadpool_limits(limits=1):
            self.calibrated_.fit(X_arr, y_arr)
        self.n_groups_ = len(np.unique(g_arr))
        logger.debug("fitted %s on %d trials, %d groups", self.kind, len(y_arr), self.n_groups_)
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Calibrated class probabilities.

        Parameters
        ----------
        X : array-like, shape (n_trials, n_features)
            Features, in the order seen in ``fit``.

        Returns
        -------
        ndarray, shape (n_trials, n_classes)
            Probabilities in [0, 1], rows summing to 1, columns in ``classes_`` order.
        """
        check_is_fitted(self)
        X_arr = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        with threadpool_limits(limits=1):
            return np.asarray(self.calibrated_.predict_proba(X_arr), dtype=np.float64)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Most probable class of each trial.

        Parameters
        ----------
        X : array-like, shape (n_trials, n_features)
            Features, in the order seen in ``fit``.

        Returns
        -------
        ndarray, shape (n_trials,)
            Predicted labels, taken from ``classes_``.
        """
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])
