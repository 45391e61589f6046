"""The scenario of a simulated NKT muscle test (what happens, hence the truth).

A session runs, in order: ``rest``; one reference contraction ``ref/<CODE>`` per
muscle (level 1.0 by definition, only that muscle active); ``n_pre`` test trials
``pre/test/<CODE>`` of the tested muscle; a ``correction``; ``n_post`` test trials
``post/test/<CODE>``. Consecutive blocks are separated by ``gap_s`` of quiet.
The stance side is ``side``: the tested muscle and its partners are on that
side, and the other leg performs the task (standing hip flexion by default).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from nkt_motion.errors import ValidationError
from nkt_motion.simulate import _checks as chk
from nkt_motion.simulate.spec import (
    EmgModel,
    Fault,
    ImuModel,
    MuscleSpec,
    Posture,
    Variability,
)
from nkt_motion.vocab import SIDES, Side

__all__ = ["Scenario"]

_MAX_TRIALS = 50


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything the simulator needs; the truth follows from it and the seed.

    Parameters
    ----------
    side : {"L", "R"}
        Stance side, and side of every EMG channel.
    tested : str
        Code of the tested muscle (e.g. ``"GMED"``).
    partners : tuple of str
        Codes of the candidate compensating partners (e.g. ``("ADL", "TFL")``),
        at least one, none equal to ``tested``.
    muscles : tuple of MuscleSpec
        One per EMG channel; must include ``tested`` and every partner. Partners
        must have levels > 0 so that the tested:partner ratio exists.
    pre, post : Posture
        Peak angles reached in each pre-correction and post-correction test trial.
    n_pre, n_post : int
        Number of test trials before and after the correction, 1-50.
    trial_s : float
        Length of each test trial (and its event) in seconds.
    gap_s : float
        Quiet time between consecutive events in seconds, >= 0.
    rest_s, ref_s, correction_s : float
        Lengths in seconds of the initial rest, of each reference contraction and
        of the correction, > 0.
    ref_onset_s : float
        Onset of the reference contraction after its event start, seconds.
    variability : Variability
        Trial-to-trial variability.
    emg, imu : EmgModel, ImuModel
        Signal models.
    faults : tuple of Fault
        Faults injected into EMG channels (recorded in the truth, not in the
        session's quality table).
    fs_emg : float
        EMG rate in Hz, 1000-20000 (the sEMG band reaches 450 Hz).
    fs_imu : float
        IMU rate in Hz, 10-2000.
    power_line_hz : {50, 60}
        Mains frequency (used for the mains interference and stored in ``meta``).
    seed : int
        Seed of every random draw, >= 0.
    task : str
        Name of the task (alphanumeric: it becomes the BIDS ``task-`` label),
        stored in ``meta``.
    protocol : str or None
        Name of the test protocol the scenario plays (e.g.
        ``"hip_flexion_gmed_adl"``), stored in ``meta["protocol"]`` so the
        analysis uses it instead of inferring one.

    Examples
    --------
    >>> from nkt_motion.simulate import Activation, MuscleSpec, Posture, Scenario
    >>> sc = Scenario(
    ...     side="L", tested="GMED", partners=("ADL",),
    ...     muscles=(MuscleSpec("GMED", 80.0, pre=Activation(0.5), post=Activation(0.8)),
    ...              MuscleSpec("ADL", 150.0, pre=Activation(0.8), post=Activation(0.5))),
    ...     pre=Posture(pelvic_drop_deg=8.0), post=Posture(pelvic_drop_deg=3.0))
    >>> sc.codes
    ('GMED', 'ADL')
    """

    side: Side
    tested: str
    partners: tuple[str, ...]
    muscles: tuple[MuscleSpec, ...]
    pre: Posture = field(default_factory=Posture)
    post: Posture = field(default_factory=Posture)
    n_pre: int = 5
    n_post: int = 5
    trial_s: float = 3.0
    gap_s: float = 2.0
    rest_s: float = 5.0
    ref_s: float = 3.0
    ref_onset_s: float = 0.25
    correction_s: float = 10.0
    variability: Variability = field(default_factory=Variability)
    emg: EmgModel = field(default_factory=EmgModel)
    imu: ImuModel = field(default_factory=ImuModel)
    faults: tuple[Fault, ...] = ()
    fs_emg: float = 2000.0
    fs_imu: float = 100.0
    power_line_hz: Literal[50, 60] = 50
    seed: int = 0
    task: str = "hipflexion"
    protocol: str | None = None

    def __post_init__(self) -> None:
        self._check_parts()
        self._check_muscles()
        self._check_timing()
        self._check_faults()

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check_parts(self) -> None:
        chk.choice(self.side, name="side", allowed=SIDES)
        for name, cls in (("pre", Posture), ("post", Posture), ("variability", Variability)):
            chk.instance(getattr(self, name), cls, name=name)
        chk.instance(self.emg, EmgModel, name="emg")
        chk.instance(self.imu, ImuModel, name="imu")
        self._set("n_pre", chk.integer(self.n_pre, name="n_pre", low=1, high=_MAX_TRIALS))
        self._set("n_post", chk.integer(self.n_post, name="n_post", low=1, high=_MAX_TRIALS))
        self._set("fs_emg", chk.number(self.fs_emg, name="fs_emg", low=1000, high=20000))
        self._set("fs_imu", chk.number(self.fs_imu, name="fs_imu", low=10, high=2000))
        chk.choice(self.power_line_hz, name="power_line_hz", allowed=(50, 60))
        self._set("seed", chk.integer(self.seed, name="seed", low=0, high=2**63 - 1))
        if not isinstance(self.task, str) or not self.task.isalnum():
            raise ValidationError(
                f"task must be a non-empty alphanumeric string (a BIDS label), got {self.task!r}",
                parameter="task",
            )
        top = self.power_line_hz * (1 + len(self.emg.mains_harmonics))
        if self.emg.mains_uv > 0 and top >= self.fs_emg / 2:
            raise ValidationError(
                f"emg.mains_harmonics: the highest harmonic ({top} Hz) must be below "
                f"fs_emg / 2 ({self.fs_emg / 2:g} Hz)",
                parameter="emg.mains_harmonics",
            )

    def _check_muscles(self) -> None:
        self._set("tested", chk.code(self.tested, name="tested"))
        partners = tuple(chk.code(p, name="partners") for p in self.partners)
        if not partners or len(set(partners)) != len(partners) or self.tested in partners:
            raise ValidationError(
                "partners must be one or more distinct muscle codes other than the tested "
                f"muscle {self.tested!r}, got {self.partners!r}",
                parameter="partners",
            )
        self._set("partners", partners)
        muscles = tuple(self.muscles)
        for m in muscles:
            chk.instance(m, MuscleSpec, name="muscles")
        codes = [m.code for m in muscles]
        if len(set(codes)) != len(codes):
            raise ValidationError(
                f"muscles must have distinct codes, got {codes}", parameter="muscles"
            )
        missing = [c for c in (self.tested, *partners) if c not in codes]
        if missing:
            raise ValidationError(
                f"muscles must include the tested muscle and every partner; missing {missing}",
                parameter="muscles",
            )
        self._set("muscles", muscles)
        for m in muscles:
            if m.code in partners and min(m.pre.level, m.post.level) <= 0:
                raise ValidationError(
                    f"muscles: partner {m.code!r} must have levels > 0 in pre and post "
                    f"(the tested:partner ratio divides by them), got {m.pre.level} and "
                    f"{m.post.level}",
                    parameter="muscles",
                )

    def _check_timing(self) -> None:
        for name in ("trial_s", "rest_s", "ref_s", "correction_s"):
            self._set(name, chk.number(getattr(self, name), name=name, low=0, strict=True))
        self._set("gap_s", chk.number(self.gap_s, name="gap_s", low=0))
        ramp = self.emg.ramp_s
        self._set("ref_onset_s", chk.number(self.ref_onset_s, name="ref_onset_s", low=0))
        if self.ref_onset_s + 2 * ramp > self.ref_s:
            raise ValidationError(
                f"ref_s must be >= ref_onset_s + 2 * emg.ramp_s "
                f"({self.ref_onset_s + 2 * ramp:g} s), got {self.ref_s:g}",
                parameter="ref_s",
            )
        latest = max(max(m.pre.onset_s, m.post.onset_s) for m in self.muscles)
        if latest + 2 * ramp > self.trial_s:
            raise ValidationError(
                f"trial_s must be >= the latest onset + 2 * emg.ramp_s "
                f"({latest + 2 * ramp:g} s), got {self.trial_s:g}",
                parameter="trial_s",
            )
        if 2 * self.imu.posture_ramp_s > self.trial_s:
            raise ValidationError(
                f"imu.posture_ramp_s must be <= trial_s / 2 ({self.trial_s / 2:g} s), "
                f"got {self.imu.posture_ramp_s:g}",
                parameter="imu.posture_ramp_s",
            )

    def _check_faults(self) -> None:
        faults = tuple(self.faults)
        for f in faults:
            chk.instance(f, Fault, name="faults")
            if f.code not in self.codes:
                raise ValidationError(
                    f"faults: code must be one of the scenario's muscles {list(self.codes)}, "
                    f"got {f.code!r}",
                    parameter="faults",
                )
        self._set("faults", faults)

    @property
    def codes(self) -> tuple[str, ...]:
        """Muscle codes in channel order."""
        return tuple(m.code for m in self.muscles)

    def muscle(self, code: str) -> MuscleSpec:
        """Return the spec of one muscle.

        Parameters
        ----------
        code : str
            Muscle code or id.

        Returns
        -------
        MuscleSpec
            The spec.

        Raises
        ------
        ValidationError
            If the scenario has no such muscle.

        Examples
        --------
        >>> from nkt_motion.simulate import gmed_adl_hip_flexion
        >>> gmed_adl_hip_flexion().muscle("adductor_longus").code
        'ADL'
        """
        wanted = chk.code(code, name="code")
        for m in self.muscles:
            if m.code == wanted:
                return m
        raise ValidationError(
            f"code must be one of {list(self.codes)}, got {code!r}", parameter="code"
        )

    def replace(self, **changes: Any) -> Scenario:
        """Return a copy with some fields replaced (validated again).

        Parameters
        ----------
        **changes
            Field names and new values.

        Returns
        -------
        Scenario
            The new scenario.

        Examples
        --------
        >>> from nkt_motion.simulate import gmed_adl_hip_flexion
        >>> gmed_adl_hip_flexion().replace(seed=7).seed
        7
        """
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain nested dicts, lists and numbers.

        Returns
        -------
        dict
            JSON-serialisable; stored in the simulated session's ``meta``.

        Examples
        --------
        >>> from nkt_motion.simulate import gmed_adl_hip_flexion
        >>> gmed_adl_hip_flexion().to_dict()["tested"]
        'GMED'
        """
        return dataclasses.asdict(self)
