"""NKT test protocols as data: one TOML file per muscle test.

A protocol names the tested muscle and its candidate compensating partners,
says how the test movement is done, where the electrodes and IMUs go, which
kinematic signs of compensation apply, the parameters of the explainable
rules, and the steps of the guided retest. Practitioners add protocols by
writing a file (in a directory given by ``user_dir=`` or the
``NKT_MOTION_PROTOCOLS`` environment variable); no code changes. The built-in
files live next to this module. Every file is validated on load; an error
names the file and the dotted field (``steps[3].event``).

File schema (``README.md`` in this folder has a worked example)
------------------------------------------------------------------
Top level (unknown keys are errors, to catch typos)
    ``name`` slug equal to the file stem; ``title``; ``version`` (string);
    ``summary``; ``tested`` a muscle code (``"GMED"``) or an array of codes
    when one test checks several muscles (``["LT", "SA"]``; the assessment
    scores every tested x partner pair); ``side_required`` (bool); optional
    ``sources`` (array of citations).
``[[partners]]``
    ``muscle`` (code), ``role`` (why it can take over, in plain words).
``[task]``
    ``position``, ``movement``, ``practitioner``, ``client`` (plain-word
    instructions), ``duration_s`` (one repetition), ``repetitions``, ``cues``
    (array of short spoken cues).
``[electrodes.<CODE>]`` (one per tested and partner muscle, no others)
    ``placement``, ``standard`` (``"SENIAM"`` or ``"convention"`` when SENIAM
    has no entry for the muscle), ``source``, ``orientation``, ``reference``.
``[[imu]]`` (optional, may be empty)
    ``site`` (one of :data:`nkt_motion.vocab.IMU_SITES`), ``mounting``,
    ``purpose``.
``[[kinematic_signs]]`` (optional)
    ``sign`` (one of :data:`KINEMATIC_SIGNS`), ``threshold_deg`` (peak angle in
    a test trial above which the sign is reported), ``source``. Each sign needs
    the IMU sites of :data:`SIGN_SITES`.
``[rules]``
    ``ratio_change_threshold`` (0.2 = 20 %), ``onset_margin_ms``,
    ``kinematic_threshold_deg``, ``min_trials``, ``source``.
``[[steps]]`` (in order)
    ``id`` (unique slug), ``kind`` (one of :data:`STEP_KINDS`), ``title``,
    ``instruction``; ``event`` (the label it records: ``rest``,
    ``ref/<CODE>`` of a protocol muscle, ``pre/test/<CODE>`` or
    ``post/test/<CODE>`` of a tested muscle, ``correction``; none for
    ``sensor_check``); ``n_trials`` (required for tests, at least
    ``rules.min_trials``); ``duration_s`` (required for ``rest``). Each tested
    muscle needs a pre test before the correction and a post test after it.

Examples
--------
>>> from nkt_motion.protocols import load_protocol
>>> p = load_protocol("side_lying_abduction")
>>> p.pairs
(('gluteus_medius', 'tensor_fasciae_latae'), ('gluteus_medius', 'quadratus_lumborum'))
>>> [s.sign for s in p.kinematic_signs]
['hip_hike']
"""

from nkt_motion.protocols._load import (
    ENV_VAR,
    AmbiguousProtocolError,
    UnknownProtocolError,
    list_protocols,
    load_protocol,
    match_protocol,
    read_protocol_file,
)
from nkt_motion.protocols._model import (
    KINEMATIC_SIGNS,
    STEP_KINDS,
    Electrode,
    ImuMount,
    KinematicSign,
    Partner,
    Protocol,
    Rules,
    Step,
    Task,
)
from nkt_motion.protocols._parse import SIGN_SITES, parse_protocol

__all__ = [
    "ENV_VAR",
    "KINEMATIC_SIGNS",
    "SIGN_SITES",
    "STEP_KINDS",
    "AmbiguousProtocolError",
    "Electrode",
    "ImuMount",
    "KinematicSign",
    "Partner",
    "Protocol",
    "Rules",
    "Step",
    "Task",
    "UnknownProtocolError",
    "list_protocols",
    "load_protocol",
    "match_protocol",
    "parse_protocol",
    "read_protocol_file",
]
