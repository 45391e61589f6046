"""Scoring compensation per trial: explainable rules and scikit-learn classifiers.

Only this subpackage imports scikit-learn. The classifiers estimate how likely a
trial's features look like compensation; they measure, they never diagnose.
Every name but :data:`KINDS` is imported on first use, so assessing a session
with the rules alone does not import scikit-learn, and the command line starts
without importing either.

Examples
--------
>>> from nkt_motion.assess import CompensationClassifier
>>> CompensationClassifier(kind="boosting").kind
'boosting'
"""

import importlib
from typing import TYPE_CHECKING, Any

from nkt_motion.assess.kinds import KINDS

if TYPE_CHECKING:
    from nkt_motion.assess.classify import CompensationClassifier, group_splits, make_pipeline
    from nkt_motion.assess.crossval import (
        ID_COLUMNS,
        TrialData,
        cross_validate,
        evaluate_held_out,
        prepare_table,
    )
    from nkt_motion.assess.display import ReliabilityDisplay
    from nkt_motion.assess.metrics import (
        CalibrationBin,
        CVReport,
        FoldMetrics,
        calibration_table,
        score_fold,
    )
    from nkt_motion.assess.modelio import (
        TRUSTED_TYPES,
        ModelCard,
        card_path,
        load_model,
        read_trial_table,
        save_model,
    )
    from nkt_motion.assess.pipeline import DISCLAIMER, Assessment, assess_session
    from nkt_motion.assess.training import SIMULATED_WARNING, evaluate_model, train_model
    from nkt_motion.assess.verdict import VERDICTS, PairAssessment

#: Where each name imported on first use lives.
_LAZY = {
    **dict.fromkeys(("CompensationClassifier", "group_splits", "make_pipeline"), "classify"),
    **dict.fromkeys(
        ("ID_COLUMNS", "TrialData", "cross_validate", "evaluate_held_out", "prepare_table"),
        "crossval",
    ),
    "ReliabilityDisplay": "display",
    **dict.fromkeys(
        ("CalibrationBin", "CVReport", "FoldMetrics", "calibration_table", "score_fold"),
        "metrics",
    ),
    **dict.fromkeys(("TRUSTED_TYPES", "ModelCard", "card_path", "load_model"), "modelio"),
    **dict.fromkeys(("read_trial_table", "save_model"), "modelio"),
    **dict.fromkeys(("SIMULATED_WARNING", "evaluate_model", "train_model"), "training"),
    **dict.fromkeys(("DISCLAIMER", "Assessment", "assess_session"), "pipeline"),
    **dict.fromkeys(("VERDICTS", "PairAssessment"), "verdict"),
}

__all__ = [
    "DISCLAIMER",
    "ID_COLUMNS",
    "KINDS",
    "SIMULATED_WARNING",
    "TRUSTED_TYPES",
    "VERDICTS",
    "Assessment",
    "CVReport",
    "CalibrationBin",
    "CompensationClassifier",
    "FoldMetrics",
    "ModelCard",
    "PairAssessment",
    "ReliabilityDisplay",
    "TrialData",
    "assess_session",
    "calibration_table",
    "card_path",
    "cross_validate",
    "evaluate_held_out",
    "evaluate_model",
    "group_splits",
    "load_model",
    "make_pipeline",
    "prepare_table",
    "read_trial_table",
    "save_model",
    "score_fold",
    "train_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
