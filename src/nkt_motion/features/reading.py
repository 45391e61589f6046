"""Read a recording for its analysis: in full, or only the samples the analysis uses.

``nkt-motion analyze``, ``report`` and ``batch`` read their sessions with
:func:`read_for_analysis`, so one recording gives the same assessment through
each of them.

``read="full"`` is :func:`nkt_motion.read`. ``"windows"`` first reads the
recording's headers (:func:`nkt_motion.io.read_header`), resolves the
protocol, tested muscle, partners and side on a zero-length copy of the session
(as the analysis would, for each side it would assess) and reads only the EMG
channels of those muscles (both sides), plus the IMU streams when the protocol
has kinematic signs, over the event windows (:mod:`nkt_motion.io.windows`).
``"auto"`` reads in full unless the recording's samples would take more than
``full_read_mb`` MB as float64.
Paths that are no EDF/BDF recording (tidy CSV, the shipped real datasets) are
always read in full.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nkt_motion.features._context import AnalysisContext, marked_sides, resolve_context
from nkt_motion.io import read as read_session
from nkt_motion.io import read_header, read_windows, recording_file
from nkt_motion.io.windows import FULL_READ_MB, PAD_S, ReadMode, check_read_options
from nkt_motion.model import Session
from nkt_motion.vocab import muscle_id

__all__ = ["AnalysisRead", "read_for_analysis"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class AnalysisRead:
    """A session read for its analysis, and how it was read.

    Attributes
    ----------
    session : Session
        The session; compacted to its event windows when ``mode`` is
        ``"windows"`` (``meta["analysis_windows"]`` lists them).
    protocol : str or None
        The protocol to assess it with: the one asked for, or, when read by
        windows, the one resolved on the whole recording (the compacted session
        may lack the channels its inference looks at).
    mode : {"full", "windows"}
        How the samples were read.
    n_bytes : int or None
        The whole recording's samples as float64, bytes; None when its header
        was not read (``read="full"``, or no EDF/BDF recording).
    note : str
        One line saying how the session was read and why, for a log or a terminal.

    Examples
    --------
    See :func:`read_for_analysis`.
    """

    session: Session
    protocol: str | None
    mode: Literal["full", "windows"]
    n_bytes: int | None
    note: str


def _needed_channels(skeleton: Session, ctx: AnalysisContext) -> set[str]:
    emg = skeleton["emg"]
    if not ctx.pairs:
        return set(emg.ch_names)
    ids = {muscle_id(c) for c in ctx.muscles}
    names = {c.name for c in emg.channels if c.kind == "emg" and c.muscle in ids}
    if ctx.protocol is not None and ctx.protocol.kinematic_signs and "imu" in skeleton.streams:
        names |= set(skeleton["imu"].ch_names)
    return names


def read_for_analysis(
    path: str | Path,
    protocol: str | None = None,
    *,
    side: Literal["L", "R"] | None = None,
    read: ReadMode = "auto",
    full_read_mb: float = FULL_READ_MB,
    pad_s: float = PAD_S,
) -> AnalysisRead:
    """Read a recording for :func:`nkt_motion.assess.assess_session` (see the module notes).

    Parameters
    ----------
    path : str or Path
        Anything :func:`nkt_motion.read` accepts.
    protocol : str, optional
        Protocol name; inferred when omitted.
    side : {"L", "R"}, optional
        Tested side; inferred when omitted.
    read : {"auto", "full", "windows"}
        How to read the samples.
    full_read_mb : float
        Threshold of ``"auto"``: MB (10**6 bytes) of samples as float64, > 0.
        Reading and analysing in full peaks at about four times this plus the
        interpreter.
    pad_s : float
        Seconds kept either side of each event window, >= 0.5.

    Returns
    -------
    AnalysisRead
        The session, the protocol to assess it with, how it was read and why.
        Assess it with ``assess_session(r.session, r.protocol, side=side, ...)``.

    Raises
    ------
    NktMotionError
        If the recording cannot be read (the message names the file), an
        option is not acceptable, or, by windows, the analysis context cannot
        be resolved or the session has no event to analyse.

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.io import write_bids
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.5, gap_s=0.5, correction_s=30.0)
    >>> folder = write_bids(simulate(sc).session, Path(tempfile.mkdtemp()))
    >>> full = read_for_analysis(folder)
    >>> full.mode, full.session["emg"].n_channels
    ('full', 3)
    >>> win = read_for_analysis(folder, full_read_mb=0.5)
    >>> win.mode, win.protocol, win.session["emg"].ch_names
    ('windows', 'hip_flexion_gmed_adl', ['EMG GMED L', 'EMG ADL L'])
    >>> len(win.session.meta["analysis_windows"]), win.session.duration < full.session.duration
    (2, True)
    >>> a = assess_session(full.session, full.protocol, n_boot=200)
    >>> b = assess_session(win.session, win.protocol, n_boot=200)
    >>> a.tests[0].verdict == b.tests[0].verdict, a.tests[0].pre.ratio == b.tests[0].pre.ratio
    (True, True)
    """
    check_read_options(read, full_read_mb, pad_s)
    found = recording_file(path) if read != "full" else None
    if found is None:
        why = "read in full" if read == "full" else "read in full (no EDF/BDF recording)"
        return AnalysisRead(read_session(path), protocol, "full", None, f"{Path(path)}: {why}")
    header = read_header(found[0])
    size = f"{header.n_bytes / 1e6:.0f} MB of samples as float64"
    if read == "auto" and header.n_bytes <= full_read_mb * 1e6:
        note = f"{found[0]}: read in full ({size}, within {full_read_mb:g} MB)"
        logger.debug("%s", note)
        return AnalysisRead(read_session(path), protocol, "full", header.n_bytes, note)
    skeleton = header.skeleton()
    # the sides assess_session analyses: the one given, else both when the events name both
    marked = marked_sides(skeleton)
    targets = [side] if side is not None else list(marked) if len(marked) == 2 else [None]
    contexts = [resolve_context(skeleton, protocol, side=s) for s in targets]
    needed = set().union(*(_needed_channels(skeleton, ctx) for ctx in contexts))
    session = read_windows(header, needed, pad_s=pad_s)
    n_channels = sum(s.n_channels for s in session.streams.values())
    n_windows = len(session.meta["analysis_windows"])
    why = f"{size}, above {full_read_mb:g} MB" if read == "auto" else "as asked"
    note = (
        f"{found[0]}: read {n_channels} channels over {n_windows} event windows "
        f"({session.duration:.0f} of {header.duration:.0f} s; {why})"
    )
    logger.info("%s", note)
    found_protocol = contexts[0].protocol
    resolved = protocol or (found_protocol.name if found_protocol is not None else None)
    return AnalysisRead(session, resolved, "windows", header.n_bytes, note)
