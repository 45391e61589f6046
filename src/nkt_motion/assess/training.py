"""Train a compensation classifier from a trial table, and evaluate a saved one.

:func:`train_model` runs the subject-grouped cross-validation (the honest
estimate of performance on *new people*), then fits the final model on every
trial, and writes both into a :class:`~nkt_motion.assess.modelio.ModelCard`.

:func:`evaluate_model` either reproduces that cross-validation (same table, same
settings and seed give the same numbers) or scores the saved model on a separate
labelled table (held-out metrics).
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

import pandas as pd

from nkt_motion.assess.classify import CompensationClassifier
from nkt_motion.assess.crossval import cross_validate, evaluate_held_out, prepare_table
from nkt_motion.assess.kinds import Kind
from nkt_motion.assess.metrics import CVReport
from nkt_motion.assess.modelio import ModelCard
from nkt_motion.errors import ValidationError

__all__ = ["SIMULATED_WARNING", "evaluate_model", "train_model"]

logger = logging.getLogger(__name__)

#: Warning written at the top of the card of a model trained on simulated data.
SIMULATED_WARNING = (
    "TRAINED ON SIMULATED DATA: its metrics describe the simulator, not people. "
    "Do not use it to assess clients."
)

Mode = Literal["auto", "cv", "held-out"]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("nkt-motion", "scikit-learn", "skops", "numpy", "pandas", "scipy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def train_model(
    table: pd.DataFrame,
    *,
    label: str = "label",
    features: Sequence[str] | None = None,
    positive: str | None = None,
    kind: Kind = "logistic",
    n_splits: int = 5,
    random_state: int = 0,
    n_bins: int = 5,
    data_description: str = "",
    simulated: bool | None = None,
) -> tuple[CompensationClassifier, ModelCard, CVReport]:
    """Cross-validate by subject, fit on all trials and describe the model.

    Parameters
    ----------
    table : pandas.DataFrame
        Trial table (see :func:`~nkt_motion.assess.crossval.prepare_table`).
    label, features, positive
        Passed to :func:`~nkt_motion.assess.crossval.prepare_table`.
    kind : {"logistic", "boosting"}
        Classifier kind.
    n_splits, random_state, n_bins
        Cross-validation settings, recorded in the card.
    data_description : str
        Where the trials come from; written into the card.
    simulated : bool, optional
        Whether the data are simulated; default: the description mentions
        "simulat". Simulated models carry :data:`SIMULATED_WARNING`.

    Returns
    -------
    estimator : CompensationClassifier
        Fitted on every trial (calibration grouped by subject).
    card : ModelCard
        Its card (``model_sha256`` is filled in when saved).
    report : CVReport
        The subject-grouped cross-validation.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0); y = np.tile([0, 1], 40)
    >>> t = pd.DataFrame({"subject": np.repeat(np.arange(8), 10), "label": y,
    ...                   "log_ratio_GMED_ADL": rng.normal(size=80) - y})
    >>> clf, card, report = train_model(t, data_description="simulated demo")
    >>> card.simulated, card.n_subjects
    (True, 8)
    """
    data = prepare_table(table, label=label, features=features, positive=positive)
    template = CompensationClassifier(kind, random_state=random_state)
    report = cross_validate(
        data, template, n_splits=n_splits, random_state=random_state, n_bins=n_bins
    )
    estimator = CompensationClassifier(kind, random_state=random_state)
    estimator.fit(data.X, data.y, groups=data.subjects)
    is_sim = "simulat" in data_description.lower() if simulated is None else simulated
    card = ModelCard(
        warning=SIMULATED_WARNING if is_sim else "",
        simulated=is_sim,
        kind=kind,
        params=estimator.get_params(),
        features=list(data.features),
        label=label,
        classes=list(data.classes),
        label_meaning=(
            f"probability that the trial belongs to class {data.classes[1]!r} of column "
            f"{label!r} (the other class is {data.classes[0]!r})"
        ),
        data_description=data_description,
        n_subjects=data.n_subjects,
        n_trials=len(data.y),
        cv_settings={"n_splits": n_splits, "random_state": random_state, "n_bins": n_bins},
        cv=report.to_dict(),
        training_fingerprint=data.fingerprint(),
        versions=_versions(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    logger.info("trained %s on %d trials of %d subjects", kind, card.n_trials, card.n_subjects)
    return estimator, card, report


def evaluate_model(
    estimator: CompensationClassifier,
    card: ModelCard,
    table: pd.DataFrame,
    *,
    mode: Mode = "auto",
    label: str | None = None,
) -> CVReport:
    """Reproduce the card's cross-validation, or score the model on a held-out table.

    Parameters
    ----------
    estimator : CompensationClassifier
        The saved, fitted classifier.
    card : ModelCard
        Its card (features, classes, CV settings, training fingerprint).
    table : pandas.DataFrame
        A labelled trial table with the card's label and feature columns.
    mode : {"auto", "cv", "held-out"}
        ``"cv"``: rerun the subject-grouped CV with the saved parameters and seed.
        ``"held-out"``: apply the saved model to every trial. ``"auto"``: ``"cv"``
        when the table is the training table (same fingerprint), else ``"held-out"``.
    label : str, optional
        Label column of ``table``; default the card's. Its values must be the
        card's classes.

    Returns
    -------
    CVReport
        The metrics (``held_out`` tells which mode ran).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0); y = np.tile([0, 1], 40)
    >>> t = pd.DataFrame({"subject": np.repeat(np.arange(8), 10), "label": y,
    ...                   "log_ratio_GMED_ADL": rng.normal(size=80) - y})
    >>> clf, card, report = train_model(t)
    >>> evaluate_model(clf, card, t).to_dict() == report.to_dict()
    True
    """
    if mode not in ("auto", "cv", "held-out"):
        raise ValidationError(
            f"mode must be 'auto', 'cv' or 'held-out', got {mode!r}", parameter="mode"
        )
    data = prepare_table(
        table,
        label=card.label if label is None else label,
        features=card.features,
        classes=card.classes,
    )
    if mode == "auto":
        mode = "cv" if data.fingerprint() == card.training_fingerprint else "held-out"
    logger.info("evaluating in %s mode", mode)
    if mode == "held-out":
        return evaluate_held_out(estimator, data, n_bins=int(card.cv_settings.get("n_bins", 5)))
    template = CompensationClassifier(**card.params)
    return cross_validate(
        data,
        template,
        n_splits=int(card.cv_settings["n_splits"]),
        random_state=int(card.cv_settings["random_state"]),
        n_bins=int(card.cv_settings["n_bins"]),
    )
