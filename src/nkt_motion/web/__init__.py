"""The practitioner's live dashboard (``nkt-motion retest --web``).

A small Starlette app served by uvicorn on 127.0.0.1 only, with a random
per-session token in its link. The page (plain JavaScript and a canvas, no
build step, nothing fetched from outside) receives the live session's
snapshot over a WebSocket 10-20 times a second and sends the practitioner's
commands back. Any object with ``snapshot()`` and ``command(name, **args)``
(:class:`LiveController`) can drive it.

Examples
--------
>>> from nkt_motion.web import COMMANDS
>>> "trial_toggle" in COMMANDS
True
"""

from nkt_motion.web.app import create_app
from nkt_motion.web.schema import (
    COMMANDS,
    STATES,
    LiveController,
    check_snapshot,
    example_snapshot,
)
from nkt_motion.web.server import Dashboard, serve_dashboard

__all__ = [
    "COMMANDS",
    "STATES",
    "Dashboard",
    "LiveController",
    "check_snapshot",
    "create_app",
    "example_snapshot",
    "serve_dashboard",
]
