"""Which muscles, side and protocol a session's analysis is about.

The protocol is taken as given (a :class:`~nkt_motion.protocols.Protocol` or
its name), else from the protocol name the recording carries in
``session.meta["protocol"]`` (written by the simulator), else inferred with
:func:`~nkt_motion.protocols.match_protocol` from the EMG muscles and event
labels. Without a fitting protocol the tested muscles come from the
``pre/test/<CODE>`` and ``post/test/<CODE>`` events and every other EMG muscle
is a partner. ``tested=`` and ``partners=`` override.

Bilateral sessions
------------------
When the tested muscle has channels on both sides (``EMG GMED L`` and ``EMG
GMED R``), its test events say which side each trial tested by a last label
part: ``pre/test/GMED/L``, ``post/test/GMED/R`` (and ``ref/GMED/L`` for a
reference contraction of one side); see :mod:`nkt_motion.vocab`. The side lives
in the label text, so it round-trips through EDF+ annotations and BIDS
``_events.tsv`` ``trial_type`` without a new column. An analysis of one side
uses that side's channels, its sided events and every event without a side.
When the side is not given it is taken from the test events when they name
exactly one side, else from the channels.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from nkt_motion.errors import ValidationError
from nkt_motion.model import Session, Stream
from nkt_motion.protocols import Protocol, load_protocol, match_protocol
from nkt_motion.vocab import Side, muscle_code, muscle_id, parse_event_label

__all__ = ["AnalysisContext", "event_sides", "marked_sides", "on_side", "resolve_context"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnalysisContext:
    """The muscles, side and EMG channels an analysis uses.

    Attributes
    ----------
    protocol : Protocol or None
        The protocol followed, when known.
    tested : tuple of str
        Codes of the tested muscles (may be empty for reference-only recordings).
    partners : tuple of str
        Codes of the candidate compensating partners.
    side : {"L", "R"} or None
        Body side of the tested muscle's channels.
    channels : mapping of str to str
        Muscle code -> EMG channel name, for the muscles that have a channel.
    missing : tuple of str
        Codes of tested or partner muscles without an EMG channel on that side.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> ctx = resolve_context(s)  # the protocol recorded in s.meta["protocol"]
    >>> ctx.protocol.name, ctx.tested, ctx.partners, ctx.side
    ('hip_flexion_gmed_adl', ('GMED',), ('ADL',), 'L')
    >>> resolve_context(s.replace(meta={})).protocol.name  # inferred from muscles and events
    'single_leg_stance'
    """

    protocol: Protocol | None
    tested: tuple[str, ...]
    partners: tuple[str, ...]
    side: Side | None
    channels: Mapping[str, str]
    missing: tuple[str, ...]

    @property
    def muscles(self) -> tuple[str, ...]:
        """Codes of the tested muscles, then the partners, without repeats."""
        return tuple(dict.fromkeys((*self.tested, *self.partners)))

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """``(tested code, partner code)`` for every pair scored."""
        return tuple((t, p) for t in self.tested for p in self.partners if p != t)


def _emg(session: Session, stream: str) -> Stream:
    if stream not in session.streams:
        raise ValidationError(
            f"session has no EMG stream {stream!r}; streams are {sorted(session.streams)}",
            parameter="stream",
        )
    return session[stream]


def _event_tested(session: Session) -> tuple[str, ...]:
    ev = session.events
    rows = ev[ev["phase"].isin(["pre", "post"]) & ev["muscle"].notna()]
    return tuple(dict.fromkeys(muscle_code(str(m)) for m in rows["muscle"]))


def _protocol(
    session: Session, emg: Stream, protocol: Protocol | str | None, tested: bool
) -> Protocol | None:
    if isinstance(protocol, Protocol):
        return protocol
    if protocol is not None:
        return load_protocol(str(protocol))
    if tested:
        return None
    recorded = session.meta.get("protocol")
    if isinstance(recorded, str) and recorded:
        logger.info("protocol recorded with the session: %s", recorded)
        return load_protocol(recorded)
    muscles = {c.muscle for c in emg.channels if c.kind == "emg" and c.muscle is not None}
    found = match_protocol(muscles, session.events["label"].tolist())
    logger.info("protocol inferred from channels and events: %s", found and found.name)
    return found


def event_sides(events: pd.DataFrame) -> pd.Series:
    """Side named by each event's label (``"L"``, ``"R"``, or None when it names none).

    Parameters
    ----------
    events : pandas.DataFrame
        An events table (``Session.events``).

    Returns
    -------
    pandas.Series
        One value per event, same index.

    Examples
    --------
    >>> from nkt_motion import make_events
    >>> ev = make_events([0, 1, 2], [1, 1, 1], ["rest", "pre/test/GMED/R", "pre/test/GMED"])
    >>> event_sides(ev).tolist()
    [None, 'R', None]
    """
    sides = [parse_event_label(str(text)).side for text in events["label"]]
    return pd.Series(sides, index=events.index, dtype=object)


def on_side(events: pd.DataFrame, side: str | None) -> pd.Series:
    """Which events belong to an analysis of one side: those of that side or of none.

    Parameters
    ----------
    events : pandas.DataFrame
        An events table.
    side : {"L", "R"} or None
        The side analysed; None keeps every event.

    Returns
    -------
    pandas.Series of bool
        One value per event, same index.

    Examples
    --------
    >>> from nkt_motion import make_events
    >>> ev = make_events([0, 1, 2], [1, 1, 1], ["rest", "pre/test/GMED/R", "pre/test/GMED/L"])
    >>> on_side(ev, "L").tolist()
    [True, False, True]
    """
    if side is None:
        return pd.Series(True, index=events.index)
    sides = event_sides(events)
    return sides.isna() | (sides == side)


def marked_sides(session: Session, tested: Sequence[str] | None = None) -> tuple[Side, ...]:
    """Sides named by the session's ``pre/test`` and ``post/test`` events.

    Parameters
    ----------
    session : Session
        The session.
    tested : sequence of str, optional
        Only the tests of these muscles (codes or ids); default every test.

    Returns
    -------
    tuple of {"L", "R"}
        Sorted, without repeats; empty when no test event names a side.

    Examples
    --------
    >>> from nkt_motion import Session, make_events
    >>> ev = make_events([0, 1], [1, 1], ["pre/test/GMED/R", "pre/test/GMED/L"])
    >>> marked_sides(Session([], events=ev))
    ('L', 'R')
    """
    ev = session.events
    keep = ev["phase"].isin(["pre", "post"])
    if tested is not None:
        keep &= ev["muscle"].isin([muscle_id(c) for c in tested])
    found = {s for s in event_sides(ev[keep]) if s is not None}
    return tuple(s for s in ("L", "R") if s in found)


def _side(session: Session, emg: Stream, tested: Sequence[str], side: str | None) -> Side | None:
    ids = {muscle_id(c) for c in tested}
    sides = sorted({c.side for c in emg.channels if c.muscle in ids and c.side is not None})
    if side is not None:
        if side not in ("L", "R"):
            raise ValidationError(f"side must be 'L' or 'R', got {side!r}", parameter="side")
        return side  # type: ignore[return-value]
    marked = marked_sides(session, tested)
    if len(marked) == 1:
        return marked[0]
    if len(sides) > 1:
        names = ", ".join(muscle_id(c) for c in tested)
        raise ValidationError(
            f"channels of {names} are recorded on both sides ({', '.join(sides)}); "
            "pass side='L' or side='R' (or mark each test event's side, e.g. pre/test/GMED/L)",
            parameter="side",
        )
    return sides[0] if sides else None


def _channel(emg: Stream, code: str, side: Side | None) -> str | None:
    mid = muscle_id(code)
    for ch in emg.channels:
        if ch.kind == "emg" and ch.muscle == mid and (side is None or ch.side in (side, None)):
            return ch.name
    return None


def resolve_context(
    session: Session,
    protocol: Protocol | str | None = None,
    *,
    tested: Sequence[str] | None = None,
    partners: Sequence[str] | None = None,
    side: str | None = None,
    stream: str = "emg",
) -> AnalysisContext:
    """Resolve the protocol, tested muscles, partners, side and channels of a session.

    Parameters
    ----------
    session : Session
        Needs an EMG stream named ``stream``.
    protocol : Protocol or str, optional
        Protocol or its name; inferred from channels and events when omitted.
    tested, partners : sequence of str, optional
        Muscle codes or ids overriding the protocol's.
    side : {"L", "R"}, optional
        Side of the tested muscle; inferred from its channels when omitted.
    stream : str
        Name of the EMG stream.

    Returns
    -------
    AnalysisContext
        The resolved context (see the class example).

    Raises
    ------
    ValidationError
        If the EMG stream is missing, or the tested muscle is recorded on both
        sides and ``side`` is not given.
    """
    emg = _emg(session, stream)
    proto = _protocol(session, emg, protocol, tested is not None)
    if tested is not None:
        t_codes = tuple(muscle_code(m) for m in tested)
    elif proto is not None:
        t_codes = proto.tested
    else:
        t_codes = _event_tested(session)
    if partners is not None:
        p_codes = tuple(muscle_code(m) for m in partners)
    elif proto is not None:
        p_codes = tuple(p.code for p in proto.partners)
    else:
        present = [c.muscle for c in emg.channels if c.kind == "emg" and c.muscle is not None]
        p_codes = tuple(dict.fromkeys(muscle_code(m) for m in present))
    p_codes = tuple(c for c in p_codes if c not in t_codes)
    body_side = _side(session, emg, t_codes, side)
    wanted = tuple(dict.fromkeys((*t_codes, *p_codes))) or tuple(
        dict.fromkeys(muscle_code(c.muscle) for c in emg.channels if c.muscle is not None)
    )
    found = {c: _channel(emg, c, body_side) for c in wanted}
    channels = {c: n for c, n in found.items() if n is not None}
    missing = tuple(c for c, n in found.items() if n is None)
    if missing:
        logger.warning("no EMG channel for %s", ", ".join(muscle_id(c) for c in missing))
    return AnalysisContext(proto, t_codes, p_codes, body_side, channels, missing)
