"""Scoring compensation per trial: explainable rules and scikit-learn classifiers.

Only this subpackage imports scikit-learn. The classifiers estimate how likely a
trial's features look like compensation; they measure, they never diagnose.

Examples
--------
>>> from nkt_motion.assess import CompensationClassifier
>>> CompensationClassifier(kind="boosting").kind
'boosting'
"""

from nkt_motion.assess.classify import KINDS, CompensationClassifier, group_splits, make_pipeline
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
from nkt_motion.assess.training import SIMULATED_WARNING, evaluate_model, train_model

__all__ = [
    "ID_COLUMNS",
    "KINDS",
    "SIMULATED_WARNING",
    "TRUSTED_TYPES",
    "CVReport",
    "CalibrationBin",
    "CompensationClassifier",
    "FoldMetrics",
    "ModelCard",
    "ReliabilityDisplay",
    "TrialData",
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
from nkt_motion.assess.pipeline import DISCLAIMER, Assessment, assess_session
from nkt_motion.assess.verdict import VERDICTS, PairAssessment

__all__ += ["DISCLAIMER", "VERDICTS", "Assessment", "PairAssessment", "assess_session"]
