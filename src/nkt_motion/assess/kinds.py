"""Names of the classifier kinds, importable without scikit-learn.

Examples
--------
>>> from nkt_motion.assess.kinds import KINDS
>>> KINDS
('logistic', 'boosting')
"""

from typing import Literal

__all__ = ["KINDS", "Kind"]

#: The pipeline kinds :class:`~nkt_motion.assess.CompensationClassifier` accepts.
KINDS: tuple[str, ...] = ("logistic", "boosting")

#: Type of a classifier kind.
Kind = Literal["logistic", "boosting"]
