"""Typed, immutable values for a test protocol (see the package docstring for the file schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, get_args

from nkt_motion.vocab import muscle_id

__all__ = [
    "KINEMATIC_SIGNS",
    "STEP_KINDS",
    "Electrode",
    "ImuMount",
    "KinematicSign",
    "Partner",
    "Protocol",
    "Rules",
    "SignName",
    "Step",
    "StepKind",
    "Task",
]

SignName = Literal["contralateral_pelvic_drop", "hip_hike", "trunk_lean", "hip_adduction"]
StepKind = Literal["sensor_check", "rest", "reference", "pre_test", "correction", "post_test"]
Standard = Literal["SENIAM", "convention"]

#: The closed set of kinematic compensation signs a protocol may name.
KINEMATIC_SIGNS: Final[tuple[SignName, ...]] = get_args(SignName)
#: The kinds of step of a guided retest, in the order they usually come.
STEP_KINDS: Final[tuple[StepKind, ...]] = get_args(StepKind)


@dataclass(frozen=True, slots=True)
class Partner:
    """A muscle suspected of compensating for the tested muscle.

    Attributes
    ----------
    code : str
        Muscle code (``"ADL"``).
    role : str
        Why it can take over the tested muscle's work, in plain words.

    Examples
    --------
    >>> Partner("ADL", "hip flexor and adductor").id
    'adductor_longus'
    """

    code: str
    role: str

    @property
    def id(self) -> str:
        """Canonical muscle id of the partner."""
        return muscle_id(self.code)


@dataclass(frozen=True, slots=True)
class Task:
    """How the test movement is performed.

    Attributes
    ----------
    position : str
        Start position.
    movement : str
        The movement, in plain words.
    practitioner : str
        What the practitioner does (hands, resistance, what to watch).
    client : str
        What is said to the client.
    duration_s : float
        Length of one repetition in seconds.
    repetitions : int
        Repetitions per test block.
    cues : tuple of str
        Short spoken cues.

    Examples
    --------
    >>> Task("standing", "lift the knee", "watch", "lift", 3.0, 5, ("slowly",)).repetitions
    5
    """

    position: str
    movement: str
    practitioner: str
    client: str
    duration_s: float
    repetitions: int
    cues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Electrode:
    """Where and how the EMG electrodes of one muscle go.

    Attributes
    ----------
    muscle : str
        Muscle code.
    placement : str
        Location on the body, in words.
    standard : {"SENIAM", "convention"}
        ``"SENIAM"`` when the placement is a SENIAM recommendation (Hermens et
        al. 2000), ``"convention"`` when SENIAM has no entry for the muscle.
    source : str
        Citation of the placement.
    orientation : str
        Direction of the electrode pair.
    reference : str
        Where the reference (ground) electrode goes.

    Examples
    --------
    >>> Electrode("GMED", "50 %", "SENIAM", "SENIAM", "along fibres", "C7").standard
    'SENIAM'
    """

    muscle: str
    placement: str
    standard: Standard
    source: str
    orientation: str
    reference: str


@dataclass(frozen=True, slots=True)
class ImuMount:
    """One IMU used by a protocol.

    Attributes
    ----------
    site : str
        One of :data:`nkt_motion.vocab.IMU_SITES`.
    mounting : str
        How and where to fix the sensor.
    purpose : str
        What the sensor measures in this test.

    Examples
    --------
    >>> ImuMount("sacrum", "flat over S1-S2", "pelvic drop").site
    'sacrum'
    """

    site: str
    mounting: str
    purpose: str


@dataclass(frozen=True, slots=True)
class KinematicSign:
    """A kinematic sign of compensation measured with the IMUs.

    Attributes
    ----------
    sign : str
        One of :data:`KINEMATIC_SIGNS`.
    threshold_deg : float
        Peak angle in degrees during a test trial above which the sign is
        reported as present.
    source : str
        Where the threshold comes from.

    Examples
    --------
    >>> KinematicSign("hip_hike", 5.0, "convention").threshold_deg
    5.0
    """

    sign: SignName
    threshold_deg: float
    source: str


@dataclass(frozen=True, slots=True)
class Rules:
    """Parameters of the explainable compensation rules.

    Attributes
    ----------
    ratio_change_threshold : float
        Relative change of the tested:partner ratio that matters (0.2 = 20 %,
        the low end of the 20-40 % of Morrissey et al. 2012).
    onset_margin_ms : float
        The partner counts as firing first when its onset leads the tested
        muscle's by more than this, in ms.
    kinematic_threshold_deg : float
        Smallest change of a kinematic sign, in degrees, that is beyond IMU
        measurement error (about 3 deg; Bolink 2016, Teufl 2018).
    min_trials : int
        Fewest test trials per phase for a verdict.
    source : str
        Where the values come from.

    Examples
    --------
    >>> Rules(0.2, 30.0, 3.0, 3, "Morrissey 2012").min_trials
    3
    """

    ratio_change_threshold: float
    onset_margin_ms: float
    kinematic_threshold_deg: float
    min_trials: int
    source: str


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the guided retest.

    Attributes
    ----------
    id : str
        Unique slug within the protocol.
    kind : str
        One of :data:`STEP_KINDS`.
    title : str
        Short title shown to the practitioner.
    instruction : str
        What to do, in plain words.
    event : str or None
        The event label the step records (``None`` for ``sensor_check``).
    n_trials : int or None
        Number of trials (contractions, repetitions) in the step.
    duration_s : float or None
        Length of one trial (or of the rest) in seconds.

    Examples
    --------
    >>> Step("pre", "pre_test", "Test", "Lift the knee.", "pre/test/GMED", 5, 3.0).event
    'pre/test/GMED'
    """

    id: str
    kind: StepKind
    title: str
    instruction: str
    event: str | None = None
    n_trials: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Protocol:
    """An NKT muscle test as data: muscles, task, sensors, signs, rules and steps.

    Build one with :func:`nkt_motion.protocols.load_protocol`; the loader
    validates every field. Muscles are held as codes; the ``*_id`` properties
    give the canonical ids used in tables and JSON.

    Attributes
    ----------
    name, title, version, summary : str
        Identity and a one-paragraph description.
    tested : tuple of str
        Codes of the tested muscle(s); most protocols test one.
    partners : tuple of Partner
        Candidate compensating muscles.
    side_required : bool
        Whether the session must say which body side was tested.
    task : Task
        How the movement is performed.
    electrodes : tuple of Electrode
        One per tested and partner muscle.
    imu : tuple of ImuMount
        IMUs used (may be empty).
    kinematic_signs : tuple of KinematicSign
        Kinematic signs that apply (may be empty).
    rules : Rules
        Rule parameters.
    steps : tuple of Step
        The guided retest, in order.
    sources : tuple of str
        References for the protocol as a whole.
    path : Path or None
        The file it was read from.

    Examples
    --------
    >>> from nkt_motion.protocols import load_protocol
    >>> p = load_protocol("hip_flexion_gmed_adl")
    >>> p.tested_id, p.partner_ids
    ('gluteus_medius', ('adductor_longus',))
    """

    name: str
    title: str
    version: str
    summary: str
    tested: tuple[str, ...]
    partners: tuple[Partner, ...]
    side_required: bool
    task: Task
    electrodes: tuple[Electrode, ...]
    imu: tuple[ImuMount, ...]
    kinematic_signs: tuple[KinematicSign, ...]
    rules: Rules
    steps: tuple[Step, ...]
    sources: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        partners = ", ".join(p.code for p in self.partners)
        return f"<Protocol {self.name} | {'+'.join(self.tested)} vs {partners}>"

    @property
    def tested_id(self) -> str:
        """Muscle id of the (first) tested muscle."""
        return muscle_id(self.tested[0])

    @property
    def tested_ids(self) -> tuple[str, ...]:
        """Muscle ids of every tested muscle."""
        return tuple(muscle_id(code) for code in self.tested)

    @property
    def partner_ids(self) -> tuple[str, ...]:
        """Muscle ids of the partners, in file order."""
        return tuple(p.id for p in self.partners)

    @property
    def muscle_ids(self) -> frozenset[str]:
        """Every muscle the protocol records (tested and partners)."""
        return frozenset(self.tested_ids) | frozenset(self.partner_ids)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """``(tested id, partner id)`` for every pair the assessment scores."""
        return tuple((t, p) for t in self.tested_ids for p in self.partner_ids)

    @property
    def imu_sites(self) -> tuple[str, ...]:
        """IMU sites used, in file order."""
        return tuple(m.site for m in self.imu)

    def electrode(self, muscle: str) -> Electrode:
        """Return the electrode placement of one muscle.

        Parameters
        ----------
        muscle : str
            Muscle code or id.

        Returns
        -------
        Electrode
            Its placement.

        Raises
        ------
        KeyError
            If the protocol does not record that muscle.

        Examples
        --------
        >>> from nkt_motion.protocols import load_protocol
        >>> load_protocol("hip_flexion_gmed_adl").electrode("adductor_longus").standard
        'convention'
        """
        mid = muscle_id(muscle)
        for electrode in self.electrodes:
            if muscle_id(electrode.muscle) == mid:
                return electrode
        raise KeyError(f"protocol {self.name!r} records no muscle {muscle!r}")

    def event_labels(self) -> tuple[str, ...]:
        """Return the event labels the steps produce, without repeats, in step order.

        Returns
        -------
        tuple of str
            For example ``("rest", "ref/GMED", "ref/ADL", "pre/test/GMED",
            "correction", "post/test/GMED")``.

        Examples
        --------
        >>> from nkt_motion.protocols import load_protocol
        >>> load_protocol("hip_flexion_gmed_adl").event_labels()[-1]
        'post/test/GMED'
        """
        labels = (s.event for s in self.steps if s.event is not None)
        return tuple(dict.fromkeys(labels))
