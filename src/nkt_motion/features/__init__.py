"""Cut a session into trials and compute one tidy feature row per trial.

:func:`read_for_analysis` reads a recording for its analysis, only over its
event windows when it is large (:mod:`nkt_motion.features.reading`).

Examples
--------
>>> from nkt_motion.features import NORMALISATIONS
>>> NORMALISATIONS
('reference', 'task_peak', 'none')
"""

from nkt_motion.features._context import (
    AnalysisContext,
    event_sides,
    marked_sides,
    on_side,
    resolve_context,
)
from nkt_motion.features._kinematics import SIGN_COLUMNS
from nkt_motion.features.reading import AnalysisRead, read_for_analysis
from nkt_motion.features.table import NORMALISATIONS, trial_table

__all__ = [
    "NORMALISATIONS",
    "SIGN_COLUMNS",
    "AnalysisContext",
    "AnalysisRead",
    "event_sides",
    "marked_sides",
    "on_side",
    "read_for_analysis",
    "resolve_context",
    "trial_table",
]
