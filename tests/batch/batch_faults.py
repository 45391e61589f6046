"""Per-session functions that kill their worker, for the batch tests.

They are imported by reference in the worker processes (the test folder is on
``sys.path``, which the workers inherit). The victim is the plain BDF session;
a hidden marker file beside it (not searched, not hashed) remembers the death.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nkt_motion.batch import SessionResult, SessionSource, analyse_session_path

VICTIM = "s03.bdf"


def marker(source: SessionSource) -> Path:
    return source.path.with_name(f".died-{source.path.name}")


def die_once(source: SessionSource, settings: Any, *, report_dir: Any = None) -> SessionResult:
    if source.path.name == VICTIM and not marker(source).exists():
        marker(source).write_text(str(os.getpid()))
        os._exit(13)
    return analyse_session_path(source, settings, report_dir=report_dir)


def always_die(source: SessionSource, settings: Any, *, report_dir: Any = None) -> SessionResult:
    if source.path.name == VICTIM:
        os._exit(13)
    return analyse_session_path(source, settings, report_dir=report_dir)
