"""Interchange vocabulary: muscle ids and codes, channel labels, event labels.

These strings are a contract (see ``ARCHITECTURE.md``): EDF/BDF signal labels,
BIDS ``_channels.tsv`` rows, event labels in EDF+ annotations and BIDS
``trial_type``, and the ``analyze --json`` output all use them. Every parser
here raises :class:`~nkt_motion.errors.VocabularyError` naming the offending
text and listing what is allowed.

Channel labels
    ``EMG <CODE> <L|R>`` (e.g. ``EMG GMED L``); IMU ``<ACC|GYR|MAG|QUAT> <axis>
    <site>`` (e.g. ``ACC X pelvis``, ``QUAT W thigh_L``); ``ANGLE <name>``
    (e.g. ``ANGLE pelvis_obliquity``); ``FORCE <name>`` (e.g. ``FORCE load``).
Event labels
    ``rest``, ``ref/<CODE>``, ``pre/test/<CODE>``, ``post/test/<CODE>``,
    ``correction``; for gait recordings also ``stance`` and ``swing``. When
    both sides are recorded, a reference or test event may name the side it
    belongs to as a last part: ``ref/<CODE>/<L|R>``, ``pre/test/<CODE>/<L|R>``
    (e.g. ``pre/test/GMED/R``: a test of the right gluteus medius). The side
    lives in the label text, so it survives EDF+ annotations and BIDS
    ``trial_type`` alike; a label without a side belongs to whichever side is
    analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, get_args

from nkt_motion.errors import VocabularyError

__all__ = [
    "CHANNEL_KINDS",
    "IMU_SITES",
    "MUSCLES",
    "SIDES",
    "ChannelKind",
    "ChannelLabel",
    "EventLabel",
    "Phase",
    "Side",
    "format_emg_label",
    "format_event_label",
    "format_imu_label",
    "muscle_code",
    "muscle_id",
    "muscle_name",
    "parse_channel_label",
    "parse_event_label",
]

ChannelKind = Literal["emg", "acc", "gyr", "mag", "quat", "angle", "force"]
Side = Literal["L", "R"]
Phase = Literal["rest", "ref", "pre", "post", "correction", "stance", "swing"]

CHANNEL_KINDS: Final[tuple[ChannelKind, ...]] = get_args(ChannelKind)
SIDES: Final[tuple[Side, ...]] = get_args(Side)

#: Canonical muscle id -> short code (ARCHITECTURE.md). ``peroneus_longus``
#: is an addition for the shipped gait recording, which includes it.
MUSCLES: Final[dict[str, str]] = {
    "gluteus_medius": "GMED",
    "adductor_longus": "ADL",
    "tensor_fasciae_latae": "TFL",
    "gluteus_maximus": "GMAX",
    "quadratus_lumborum": "QL",
    "erector_spinae": "ES",
    "biceps_femoris": "BF",
    "semitendinosus": "ST",
    "rectus_femoris": "RF",
    "vastus_lateralis": "VL",
    "vastus_medialis": "VM",
    "tibialis_anterior": "TA",
    "gastrocnemius_medialis": "MG",
    "gastrocnemius_lateralis": "LG",
    "soleus": "SOL",
    "upper_trapezius": "UT",
    "lower_trapezius": "LT",
    "serratus_anterior": "SA",
    "latissimus_dorsi": "LD",
    "triceps_brachii": "TRI",
    "anterior_deltoid": "AD",
    "pectoralis_major": "PM",
    "sternocleidomastoid": "SCM",
    "masseter": "MAS",
    "flexor_digitorum_superficialis": "FDS",
    "peroneus_longus": "PL",
}
_CODES: Final[dict[str, str]] = {code: mid for mid, code in MUSCLES.items()}

#: IMU mounting sites allowed in channel labels.
IMU_SITES: Final[tuple[str, ...]] = (
    "pelvis",
    "sacrum",
    "thigh_L",
    "thigh_R",
    "trunk",
    "shank_L",
    "shank_R",
    "arm_L",
    "arm_R",
)
_IMU_KINDS: Final[dict[str, ChannelKind]] = {
    "ACC": "acc",
    "GYR": "gyr",
    "MAG": "mag",
    "QUAT": "quat",
}
_IMU_PREFIX: Final[dict[str, str]] = {v: k for k, v in _IMU_KINDS.items()}
_AXES: Final[dict[ChannelKind, tuple[str, ...]]] = {
    "acc": ("X", "Y", "Z"),
    "gyr": ("X", "Y", "Z"),
    "mag": ("X", "Y", "Z"),
    "quat": ("W", "X", "Y", "Z"),
}
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_]+$")


def _known_codes() -> str:
    return ", ".join(sorted(_CODES))


def muscle_id(code_or_id: str) -> str:
    """Return the canonical muscle id for a short code (or an id).

    Parameters
    ----------
    code_or_id : str
        A code such as ``"GMED"`` (case-insensitive) or an id such as
        ``"gluteus_medius"``.

    Returns
    -------
    str
        The canonical snake_case id.

    Raises
    ------
    VocabularyError
        If the text is neither a known code nor a known id; the message lists
        the known codes.

    Examples
    --------
    >>> muscle_id("GMED")
    'gluteus_medius'
    >>> muscle_id("adductor_longus")
    'adductor_longus'
    """
    if code_or_id in MUSCLES:
        return code_or_id
    mid = _CODES.get(code_or_id.upper())
    if mid is None:
        raise VocabularyError(
            f"unknown muscle {code_or_id!r}; known codes are {_known_codes()}",
            value=code_or_id,
        )
    return mid


def muscle_code(id_or_code: str) -> str:
    """Return the short code for a muscle id (or a code).

    Parameters
    ----------
    id_or_code : str
        A canonical id such as ``"gluteus_medius"`` or a code such as ``"GMED"``.

    Returns
    -------
    str
        The upper-case code.

    Raises
    ------
    VocabularyError
        If the muscle is unknown.

    Examples
    --------
    >>> muscle_code("tensor_fasciae_latae")
    'TFL'
    """
    return MUSCLES[muscle_id(id_or_code)]


def muscle_name(id_or_code: str) -> str:
    """Return a muscle's name in plain words, for reports and messages.

    Parameters
    ----------
    id_or_code : str
        Muscle id or code.

    Returns
    -------
    str
        For example ``"gluteus medius"``.

    Examples
    --------
    >>> muscle_name("ADL")
    'adductor longus'
    """
    return muscle_id(id_or_code).replace("_", " ")


@dataclass(frozen=True, slots=True)
class ChannelLabel:
    """A parsed channel label.

    Attributes
    ----------
    kind : str
        One of ``emg``, ``acc``, ``gyr``, ``mag``, ``quat``, ``angle``, ``force``.
    muscle : str or None
        Muscle id for EMG channels.
    side : {"L", "R"} or None
        Body side for EMG channels.
    axis : str or None
        ``X``/``Y``/``Z`` (``W`` too for quaternions) for IMU channels.
    site : str or None
        Mounting site for IMU channels.
    name : str or None
        Free name of ``ANGLE`` and ``FORCE`` channels.
    """

    kind: ChannelKind
    muscle: str | None = None
    side: Side | None = None
    axis: str | None = None
    site: str | None = None
    name: str | None = None


def format_emg_label(muscle: str, side: str) -> str:
    """Format an EMG channel label ``EMG <CODE> <L|R>``.

    Parameters
    ----------
    muscle : str
        Muscle id or code.
    side : {"L", "R"}
        Body side.

    Returns
    -------
    str
        At most 16 characters, as EDF labels require.

    Examples
    --------
    >>> format_emg_label("gluteus_medius", "L")
    'EMG GMED L'
    """
    if side not in SIDES:
        raise VocabularyError(f"side must be 'L' or 'R', got {side!r}", value=side)
    return f"EMG {muscle_code(muscle)} {side}"


def format_imu_label(kind: str, axis: str, site: str) -> str:
    """Format an IMU channel label such as ``ACC X pelvis``.

    Parameters
    ----------
    kind : {"acc", "gyr", "mag", "quat"}
        Channel kind.
    axis : str
        ``X``, ``Y`` or ``Z`` (and ``W`` for ``quat``).
    site : str
        One of :data:`IMU_SITES`.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> format_imu_label("gyr", "Z", "thigh_L")
    'GYR Z thigh_L'
    """
    prefix = _IMU_PREFIX.get(kind)
    if prefix is None:
        raise VocabularyError(
            f"IMU kind must be one of acc, gyr, mag, quat, got {kind!r}", value=kind
        )
    label = f"{prefix} {axis} {site}"
    parse_channel_label(label)
    return label


def parse_channel_label(label: str) -> ChannelLabel:
    """Parse a channel label that follows the conventions.

    Parameters
    ----------
    label : str
        For example ``"EMG GMED L"``, ``"ACC X pelvis"``, ``"ANGLE pelvis_obliquity"``.

    Returns
    -------
    ChannelLabel
        The parts of the label.

    Raises
    ------
    VocabularyError
        If the label does not follow the conventions; the message says which
        part is wrong and what is allowed.

    Examples
    --------
    >>> parse_channel_label("EMG ADL R")
    ChannelLabel(kind='emg', muscle='adductor_longus', side='R', axis=None, site=None, name=None)
    """
    parts = label.strip().split()
    head = parts[0].upper() if parts else ""
    if head == "EMG" and len(parts) == 3:
        side = parts[2].upper()
        if side not in SIDES:
            raise VocabularyError(
                f"channel label {label!r}: side must be L or R, got {parts[2]!r}", value=label
            )
        return ChannelLabel(kind="emg", muscle=muscle_id(parts[1]), side=side)
    if head in _IMU_KINDS and len(parts) == 3:
        kind = _IMU_KINDS[head]
        axis = parts[1].upper()
        if axis not in _AXES[kind]:
            raise VocabularyError(
                f"channel label {label!r}: axis must be one of {', '.join(_AXES[kind])}",
                value=label,
            )
        if parts[2] not in IMU_SITES:
            raise VocabularyError(
                f"channel label {label!r}: unknown site {parts[2]!r}; "
                f"known sites are {', '.join(IMU_SITES)}",
                value=label,
            )
        return ChannelLabel(kind=kind, axis=axis, site=parts[2])
    if head in ("ANGLE", "FORCE") and len(parts) == 2 and _NAME_RE.match(parts[1]):
        return ChannelLabel(kind="angle" if head == "ANGLE" else "force", name=parts[1])
    raise VocabularyError(
        f"channel label {label!r} does not follow the conventions: expected "
        "'EMG <CODE> <L|R>', '<ACC|GYR|MAG|QUAT> <axis> <site>', 'ANGLE <name>' "
        "or 'FORCE <name>'",
        value=label,
    )


@dataclass(frozen=True, slots=True)
class EventLabel:
    """A parsed event label.

    Attributes
    ----------
    label : str
        The canonical label text.
    phase : str
        ``rest``, ``ref``, ``pre``, ``post``, ``correction``, ``stance`` or ``swing``.
    muscle : str or None
        Muscle id for ``ref/<CODE>`` and ``<phase>/test/<CODE>``.
    side : {"L", "R"} or None
        Side named by a ``ref/<CODE>/<L|R>`` or ``<phase>/test/<CODE>/<L|R>``
        label; None when the label names none.
    """

    label: str
    phase: Phase
    muscle: str | None = None
    side: Side | None = None

    @property
    def is_test(self) -> bool:
        """Whether this is a muscle test (``pre/test/...`` or ``post/test/...``)."""
        return self.phase in ("pre", "post")


_PLAIN_EVENTS: Final[tuple[Phase, ...]] = ("rest", "correction", "stance", "swing")


def parse_event_label(label: str) -> EventLabel:
    """Parse an event label.

    Parameters
    ----------
    label : str
        ``rest``, ``ref/<CODE>``, ``pre/test/<CODE>``, ``post/test/<CODE>``,
        ``correction``, ``stance`` or ``swing``; ``ref`` and test labels may
        end in ``/L`` or ``/R`` (the side).

    Returns
    -------
    EventLabel
        Phase, muscle and side of the event.

    Raises
    ------
    VocabularyError
        If the label does not follow the conventions.

    Examples
    --------
    >>> parse_event_label("pre/test/GMED")
    EventLabel(label='pre/test/GMED', phase='pre', muscle='gluteus_medius', side=None)
    >>> parse_event_label("post/test/gmed/r").side
    'R'
    """
    text = label.strip()
    parts = text.split("/")
    side: Side | None = None
    if len(parts) in (3, 4) and parts[-1].upper() in SIDES and parts[0] in ("ref", "pre", "post"):
        side = "L" if parts[-1].upper() == "L" else "R"
        parts = parts[:-1]
    suffix = f"/{side}" if side else ""
    if len(parts) == 1 and parts[0] in _PLAIN_EVENTS:
        return EventLabel(label=text, phase=parts[0])
    if len(parts) == 2 and parts[0] == "ref":
        mid = muscle_id(parts[1])
        return EventLabel(f"ref/{MUSCLES[mid]}{suffix}", "ref", mid, side)
    if len(parts) == 3 and parts[0] in ("pre", "post") and parts[1] == "test":
        mid = muscle_id(parts[2])
        phase: Phase = "pre" if parts[0] == "pre" else "post"
        return EventLabel(f"{phase}/test/{MUSCLES[mid]}{suffix}", phase, mid, side)
    raise VocabularyError(
        f"event label {label!r} does not follow the conventions: expected rest, "
        "ref/<CODE>, pre/test/<CODE>, post/test/<CODE> (the last three optionally "
        "followed by /L or /R), correction, stance or swing",
        value=label,
    )


def format_event_label(phase: str, muscle: str | None = None, *, side: str | None = None) -> str:
    """Format an event label from its phase, muscle and (optionally) side.

    Parameters
    ----------
    phase : str
        ``rest``, ``ref``, ``pre``, ``post``, ``correction``, ``stance`` or ``swing``.
    muscle : str or None
        Muscle id or code; required for ``ref``, ``pre`` and ``post``.
    side : {"L", "R"}, optional
        Side of a ``ref``, ``pre`` or ``post`` event, appended as ``/L`` or ``/R``.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> format_event_label("post", "gluteus_medius")
    'post/test/GMED'
    >>> format_event_label("ref", "ADL", side="R")
    'ref/ADL/R'
    """
    if side is not None and side not in SIDES:
        raise VocabularyError(f"side must be 'L' or 'R', got {side!r}", value=str(side))
    if phase in ("pre", "post", "ref"):
        if muscle is None:
            raise VocabularyError(f"event phase {phase!r} needs a muscle", value=phase)
        code = muscle_code(muscle)
        label = f"ref/{code}" if phase == "ref" else f"{phase}/test/{code}"
        return f"{label}/{side}" if side else label
    if side is not None:
        raise VocabularyError(f"event phase {phase!r} takes no side", value=phase)
    return parse_event_label(phase).label
