"""nkt-motion: measure muscle compensation with wearable EMG and IMU sensors.

A measurement and research tool, not a medical device: it never diagnoses.

Examples
--------
>>> import nkt_motion as nm
>>> nm.muscle_id("GMED")
'gluteus_medius'
"""

import logging

from nkt_motion.errors import (
    AcquisitionError,
    DecodeError,
    FileFormatError,
    NktMotionError,
    ProtocolFileError,
    SignalError,
    ValidationError,
    VocabularyError,
)
from nkt_motion.io import (
    read,
    read_elderly_cohort,
    read_elderly_hold,
    read_santuz_walking,
    write_bids,
)
from nkt_motion.model import (
    Channel,
    Session,
    Stream,
    Trial,
    channel_from_label,
    make_events,
    make_gaps,
    make_quality,
)
from nkt_motion.vocab import (
    format_emg_label,
    format_event_label,
    muscle_code,
    muscle_id,
    parse_channel_label,
    parse_event_label,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AcquisitionError",
    "Channel",
    "DecodeError",
    "FileFormatError",
    "NktMotionError",
    "ProtocolFileError",
    "Session",
    "SignalError",
    "Stream",
    "Trial",
    "ValidationError",
    "VocabularyError",
    "__version__",
    "channel_from_label",
    "format_emg_label",
    "format_event_label",
    "make_events",
    "make_gaps",
    "make_quality",
    "muscle_code",
    "muscle_id",
    "parse_channel_label",
    "parse_event_label",
    "read",
    "read_elderly_cohort",
    "read_elderly_hold",
    "read_santuz_walking",
    "write_bids",
]
