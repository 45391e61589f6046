"""The guided live retest: test -> correction -> retest, with live figures and a verdict.

:class:`RetestSession` (``nkt-motion retest``) records the sensors, walks the
protocol's steps with the practitioner (:class:`Guide`: sensor check, rest,
reference contractions, pre-correction trials, correction, post-correction
trials), shows live figures and, at the end, saves the session as BIDS-EMG,
assesses it before vs after and writes the report (:class:`RetestResult`). It
is also the controller of the web dashboard (``snapshot()`` and ``command()``).

The pieces:

- :mod:`~nkt_motion.retest.guide`: the steps as a pure state machine; which
  event label a trial gets; skip, repeat, override, stop.
- :mod:`~nkt_motion.retest.feed`: live packets -> blocks on the session clock
  of the saved session.
- :mod:`~nkt_motion.retest.processor` (:class:`LiveProcessor`): live envelopes,
  per-trial ratios, onset order and IMU angles with the streaming DSP forms;
  :mod:`~nkt_motion.retest.detector` (:class:`TrialDetector`): trials found in
  the envelopes.
- :mod:`~nkt_motion.retest.quality`: signal-quality lights per channel.
- :mod:`~nkt_motion.retest.finish`: save, assess, report.
- :mod:`~nkt_motion.retest.emulated` and :mod:`~nkt_motion.retest.auto`: the
  emulated client (a simulated person on emulated sensors, optionally faster
  than real time, :class:`ScaledClock`) and a script that plays the
  practitioner, for ``--emulate --auto``, demos and tests.

Examples
--------
>>> from nkt_motion.retest import Guide
>>> from nkt_motion.protocols import load_protocol
>>> g = Guide(load_protocol("hip_flexion_gmed_adl"))
>>> [s.kind for s in g.protocol.steps][:3]
['sensor_check', 'rest', 'reference']
"""

from nkt_motion.retest.auto import AutoPilot
from nkt_motion.retest.clock import ScaledClock
from nkt_motion.retest.detector import DetectedEvent, TrialDetector
from nkt_motion.retest.emulated import EmulatedPlan, EmulatedSetup, PlannedStep, plan_session
from nkt_motion.retest.feed import FeedBlock, LiveFeed
from nkt_motion.retest.finish import RetestResult, finish_session, verdict_entry
from nkt_motion.retest.guide import COMMANDS, Guide, TrialRecord
from nkt_motion.retest.processor import LiveProcessor, TrialSummary
from nkt_motion.retest.quality import Light, QualityLights
from nkt_motion.retest.runner import RetestSession, sensor_options

__all__ = [
    "COMMANDS",
    "AutoPilot",
    "DetectedEvent",
    "EmulatedPlan",
    "EmulatedSetup",
    "FeedBlock",
    "Guide",
    "Light",
    "LiveFeed",
    "LiveProcessor",
    "PlannedStep",
    "QualityLights",
    "RetestResult",
    "RetestSession",
    "ScaledClock",
    "TrialDetector",
    "TrialRecord",
    "TrialSummary",
    "finish_session",
    "plan_session",
    "sensor_options",
    "verdict_entry",
]
