"""Data objects: Channel, Stream, Session and their tables."""

from nkt_motion.model.channels import Channel, channel_from_label
from nkt_motion.model.session import Session, Trial
from nkt_motion.model.stream import Stream
from nkt_motion.model.tables import (
    EVENT_COLUMNS,
    GAP_COLUMNS,
    QUALITY_COLUMNS,
    make_events,
    make_gaps,
    make_quality,
)

__all__ = [
    "EVENT_COLUMNS",
    "GAP_COLUMNS",
    "QUALITY_COLUMNS",
    "Channel",
    "Session",
    "Stream",
    "Trial",
    "channel_from_label",
    "make_events",
    "make_gaps",
    "make_quality",
]
