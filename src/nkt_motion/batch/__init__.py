"""Batch analysis: every session under a folder into one tidy table.

``nkt-motion batch ROOT --out results.parquet`` finds the sessions
(:func:`discover_sessions`), analyses each with one pure function
(:func:`analyse_session_path`) on a local process pool or a Dask cluster
(:func:`run_batch`), and writes one table (Parquet and CSV, layout in
:mod:`nkt_motion.batch.rows`) with optional per-session reports. Re-running
skips the sessions whose content and settings are unchanged.
"""

from nkt_motion.batch.analyse import SessionResult, analyse_session_path, report_name
from nkt_motion.batch.discover import (
    Discovery,
    SessionSource,
    describe_session,
    discover_sessions,
    recording_hash,
)
from nkt_motion.batch.run import BatchSummary, run_batch
from nkt_motion.batch.settings import READ_MODES, Settings

__all__ = [
    "READ_MODES",
    "BatchSummary",
    "Discovery",
    "SessionResult",
    "SessionSource",
    "Settings",
    "analyse_session_path",
    "describe_session",
    "discover_sessions",
    "recording_hash",
    "report_name",
    "run_batch",
]
