"""The one function a batch runs per session: path in, tidy rows out, never raising.

:func:`analyse_session_path` reads a session, assesses it
(:func:`nkt_motion.assess.assess_session` with the batch :class:`Settings`),
optionally writes its HTML report, and returns a :class:`SessionResult`: the
session's rows of the results table (:mod:`nkt_motion.batch.rows`), the
assessment, and how long it took. Its arguments and result are plain picklable
values, so it runs the same in a local process pool and on a Dask cluster. A
session that cannot be read or assessed gives a result with status
``"failed"`` and the reason; nothing is raised for a bad session.

How a session is read (``Settings.read``)
-----------------------------------------
With :func:`nkt_motion.features.read_for_analysis`, as ``nkt-motion analyze``
reads it: ``"full"`` (and always for tidy CSV) is :func:`nkt_motion.read`;
``"windows"`` reads only the channels the analysis uses over the event windows
(:mod:`nkt_motion.io.windows`); ``"auto"`` reads in full unless the samples
would take more than ``Settings.full_read_mb`` as float64. Then the assessment
with ``Settings.protocol`` (or the protocol resolved before a read by windows)
and ``Settings.side``: exactly what ``nkt-motion analyze`` computes with the
same options.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from nkt_motion.batch.discover import SessionSource, describe_session
from nkt_motion.batch.rows import failure_rows, session_rows
from nkt_motion.batch.settings import Settings
from nkt_motion.errors import NktMotionError

if TYPE_CHECKING:
    from nkt_motion.assess import Assessment
    from nkt_motion.model import Session

__all__ = ["SessionResult", "analyse_session_path", "report_name"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class SessionResult:
    """What analysing one session gave.

    Attributes
    ----------
    source : SessionSource
        The session (path, kind, content hash).
    settings_hash : str
        Hash of the settings used.
    status : {"ok", "failed"}
        Whether it was assessed.
    error : str or None
        Why it failed, or a note (a report that could not be written).
    rows : pandas.DataFrame
        Its rows of the results table (see :mod:`nkt_motion.batch.rows`).
    assessment : Assessment or None
        The assessment, when there is one.
    read_mode : {"full", "windows"} or None
        How the samples were read.
    seconds : float
        Wall time of the analysis.
    report : Path or None
        The HTML report written.
    recorded_at : str or None
        When the session was recorded, if its files say (ISO 8601: UTC with
        an offset, or local time as given; :func:`nkt_motion.index.recorded_at_of`).
    """

    source: SessionSource
    settings_hash: str
    status: Literal["ok", "failed"]
    error: str | None
    rows: pd.DataFrame
    assessment: Assessment | None
    read_mode: Literal["full", "windows"] | None
    seconds: float
    report: Path | None = None
    recorded_at: str | None = None

    @property
    def ok(self) -> bool:
        """True when the session was assessed."""
        return self.status == "ok"


def report_name(subject: str, session: str, content_hash: str) -> str:
    """File name of a session's report in a batch's report folder.

    Parameters
    ----------
    subject, session : str
        Ids of the session.
    content_hash : str
        Its content hash (the first 12 digits tell copies of one id apart).

    Returns
    -------
    str
        ``sub-<subject>_ses-<session>_<hash12>.html``.

    Examples
    --------
    >>> report_name("01", "02", "0123456789abcdef")
    'sub-01_ses-02_0123456789ab.html'
    """
    return f"sub-{subject}_ses-{session}_{content_hash[:12]}.html"


def load_session(
    source: SessionSource, settings: Settings
) -> tuple[Session, str | None, Literal["full", "windows"]]:
    """Read a session as the settings say (see the module notes).

    Parameters
    ----------
    source : SessionSource
        The session.
    settings : Settings
        Batch settings.

    Returns
    -------
    Session
        The session (compacted when read by windows).
    str or None
        Protocol to assess it with.
    {"full", "windows"}
        How it was read.

    Raises
    ------
    NktMotionError
        If it cannot be read.

    Examples
    --------
    See :func:`analyse_session_path`.
    """
    from nkt_motion.features import read_for_analysis

    r = read_for_analysis(
        source.path,
        settings.protocol,
        side=settings.side,
        read=settings.read,
        full_read_mb=settings.full_read_mb,
        pad_s=settings.pad_s,
    )
    return r.session, r.protocol, r.mode


def _report(session: Session, a: Assessment, report_dir: Path, content_hash: str) -> Path:
    from nkt_motion.report import build_report

    out = report_dir / report_name(a.subject, a.session, content_hash)
    return build_report(session, a, protocol=a.protocol or None, out_html=out).html


def _describe(source: SessionSource | str | Path) -> tuple[SessionSource, str]:
    if isinstance(source, SessionSource):
        return source, ""
    try:
        return describe_session(source), ""
    except NktMotionError as exc:
        p = Path(source)
        return SessionSource(p, str(source), "edf", (p,), ""), str(exc)


def _relative(error: str, src: SessionSource) -> str:
    """Name files relative to the batch root, so results do not depend on where it is."""
    path = str(src.path)
    if src.source != path and path.endswith(src.source):
        return error.replace(path[: -len(src.source)], "")
    return error


def _failed(
    src: SessionSource, settings_hash: str, error: str, started: float, mode: Any = None
) -> SessionResult:
    error = _relative(error, src)
    ids = _identity(src, settings_hash, mode)
    return SessionResult(
        src, settings_hash, "failed", error, failure_rows(ids, error), None, mode,
        time.perf_counter() - started,
    )  # fmt: skip


def _identity(src: SessionSource, settings_hash: str, mode: Any) -> dict[str, Any]:
    return {
        "source": src.source,
        "kind": src.kind if src.content_hash else None,
        "content_hash": src.content_hash,
        "settings_hash": settings_hash,
        "read_mode": mode,
    }


def analyse_session_path(
    source: SessionSource | str | Path,
    settings: Settings | None = None,
    *,
    report_dir: str | Path | None = None,
) -> SessionResult:
    """Analyse one session; a session that cannot be analysed gives a failed result.

    Parameters
    ----------
    source : SessionSource or str or Path
        The session, from :func:`~nkt_motion.batch.discover_sessions`, or the
        path of its file (then described and hashed here).
    settings : Settings, optional
        Analysis settings; default ``Settings()``.
    report_dir : str or Path, optional
        Also write the session's HTML report there (:func:`report_name`).

    Returns
    -------
    SessionResult
        Status ``"ok"`` with the rows and the assessment, or ``"failed"`` with
        the reason (an nkt-motion error's message, or the type and message of
        any other exception, whose traceback is logged). Files in the reason
        are named relative to the batch root when the source is.

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion.io import write_bids
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.5, gap_s=0.5)
    >>> d = Path(tempfile.mkdtemp())
    >>> folder = write_bids(simulate(sc).session, d)
    >>> bdf = next((folder / "emg").glob("*_emg.bdf"))
    >>> r = analyse_session_path(bdf, Settings(n_boot=200))
    >>> r.status, r.read_mode, r.rows.loc[r.rows.row_type == "pair", "verdict"].tolist()
    ('ok', 'full', ['resolved'])
    >>> w = analyse_session_path(bdf, Settings(n_boot=200, read="windows", pad_s=5.0))
    >>> w.read_mode, w.assessment.tests[0].pre.ratio == r.assessment.tests[0].pre.ratio
    ('windows', True)
    >>> bad = analyse_session_path(d / "dataset_description.json")
    >>> bad.status, bad.error.split(": ")[-1]
    ('failed', 'not a session file (EDF/BDF, BIDS _emg.bdf or tidy CSV)')
    """
    from nkt_motion.assess import assess_session
    from nkt_motion.index import recorded_at_of

    started = time.perf_counter()
    settings = Settings() if settings is None else settings
    digest = settings.settings_hash
    src, problem = _describe(source)
    if problem:
        return _failed(src, digest, problem, started)
    mode: Literal["full", "windows"] | None = None
    try:
        session, protocol, mode = load_session(src, settings)
        a = assess_session(
            session, protocol, side=settings.side, n_boot=settings.n_boot, seed=settings.seed
        )
    except NktMotionError as exc:
        return _failed(src, digest, str(exc), started, mode)
    except Exception as exc:  # a bad session must never stop the batch
        logger.warning("%s failed:\n%s", src.source, traceback.format_exc())
        return _failed(src, digest, f"{type(exc).__name__}: {exc}", started, mode)
    note, report = None, None
    if report_dir is not None:
        try:
            report = _report(session, a, Path(report_dir), src.content_hash)
        except Exception as exc:  # the assessment stands without its report
            note = _relative(f"report not written: {type(exc).__name__}: {exc}", src)
            logger.warning("%s: %s", src.source, note)
    when = recorded_at_of(session.meta)
    del session
    ids = _identity(src, digest, mode) | {"error": note, "recorded_at": when}
    return SessionResult(
        src, digest, "ok", note, session_rows(a, ids), a, mode,
        time.perf_counter() - started, report, when,
    )  # fmt: skip
