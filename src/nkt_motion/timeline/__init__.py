"""Timeline: decoded packets of several sensors -> uniform-rate streams on one session clock.

Device counters or timestamps give each sample's device index where the sensor
has them; host receive times, through a lower-envelope linear fit
(:func:`fit_clock`), map device time to the session clock and measure each
device's drift. Sequence gaps are counted exactly (u16 wrap-around included),
duplicates dropped, late packets put back in order; missing samples stay NaN
with a row in the session's gap table.

Examples
--------
>>> import numpy as np
>>> from nkt_motion.timeline import fit_clock
>>> dev = np.arange(50) / 100
>>> round(fit_clock(dev, 3.0 + dev * 1.0001).drift_ppm, 3)
100.0
"""

from nkt_motion.timeline.assemble import Assembly, SensorReport, assemble, place_on_grid
from nkt_motion.timeline.clock import ClockFit, fit_clock, lower_hull
from nkt_motion.timeline.control import ROTATIONS, apply_control, is_data, rotation_losses
from nkt_motion.timeline.sequence import SequenceReport, order_by_sequence, unwrap_counter
from nkt_motion.timeline.tracks import (
    Piece,
    SensorCounts,
    connection_segments,
    decode_packets,
    make_pieces,
    timestamp_positions,
)

__all__ = [
    "ROTATIONS",
    "Assembly",
    "ClockFit",
    "Piece",
    "SensorCounts",
    "SensorReport",
    "SequenceReport",
    "apply_control",
    "assemble",
    "connection_segments",
    "decode_packets",
    "fit_clock",
    "is_data",
    "lower_hull",
    "make_pieces",
    "order_by_sequence",
    "place_on_grid",
    "rotation_losses",
    "timestamp_positions",
    "unwrap_counter",
]
