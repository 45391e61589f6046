"""The JSON-ready snapshot of a retest (schema in :mod:`nkt_motion.retest.runner`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nkt_motion.vocab import muscle_code, parse_channel_label

if TYPE_CHECKING:
    from nkt_motion.retest.runner import RetestSession

__all__ = ["build_snapshot", "number"]


def number(x: Any) -> float | None:
    """Return ``x`` as a float, or None for None, NaN and infinities.

    Parameters
    ----------
    x : float or None
        A value.

    Returns
    -------
    float or None
        JSON-ready.

    Examples
    --------
    >>> number(float("nan")), number(2)
    (None, 2.0)
    """
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _step(rs: RetestSession) -> dict[str, Any]:
    g, step = rs.guide, rs.guide.step
    return {
        "index": g.index,
        "count": len(rs.protocol.steps),
        "id": step.id,
        "kind": step.kind,
        "title": step.title,
        "instruction": step.instruction,
        "event": step.event,
        "n_trials": g.n_trials(),
        "trials_done": g.trials_done(),
        "can_mark": g.can_mark and rs.state == "running",
        "blocked_reason": g.blocked_reason,
    }


def _channels(rs: RetestSession, figures: dict[str, Any], now: float) -> list[dict[str, Any]]:
    lights = {x.label: x for x in rs.chain.lights(now)}
    rows = figures.get("channels") or [
        {"label": lab, "muscle": muscle_code(str(parse_channel_label(lab).muscle)),
         "level": None, "normalised": False} for lab in rs.chain.labels
    ]  # fmt: skip
    out = []
    for row in rows:
        light = lights.get(row["label"])
        out.append({**row, "level": number(row.get("level")),
                    "quality": "bad" if light is None else light.quality,
                    "reason": "no signal yet" if light is None else light.reason})  # fmt: skip
    return out


def _sensors(rs: RetestSession) -> list[dict[str, Any]]:
    rec = rs.recorder
    if rec is None:
        return [{"id": c.entry().id, "state": "connecting", "packets": 0, "lost": 0,
                 "drift_ppm": None} for c in rs.sensors]  # fmt: skip
    return [{"id": s.sensor, "state": s.state, "packets": s.packets, "lost": s.lost,
             "drift_ppm": number(s.drift_ppm)} for s in rec.live.values()]  # fmt: skip


def build_snapshot(rs: RetestSession) -> dict[str, Any]:
    """Assemble the snapshot of a retest (without ``seq``).

    Parameters
    ----------
    rs : RetestSession
        The retest.

    Returns
    -------
    dict
        The schema's keys but ``seq``.
    """
    now = rs.now_s
    g = rs.guide
    proc = rs.chain.processor
    figures: dict[str, Any] = (
        proc.snapshot() if proc is not None
        else {"channels": [], "ratios": [], "onsets": None, "angles": []}
    )  # fmt: skip
    active = g.active
    events = [{"onset": e.onset, "duration": e.duration, "label": e.label} for e in g.events]
    return {
        "t": number(now),
        "state": rs.state,
        "protocol": {
            "name": rs.protocol.name,
            "title": rs.protocol.title,
            "side": rs.side,
            "tested": rs.protocol.tested[0],
            "partners": [p.code for p in rs.protocol.partners],
        },
        "step": _step(rs),
        "steps": [
            {"id": s.id, "title": s.title, "status": st}
            for s, st in zip(rs.protocol.steps, g.statuses, strict=True)
        ],
        "trial": {
            "active": active is not None,
            "label": None if active is None else active[0],
            "elapsed_s": None if active is None else number(max(now - active[1], 0.0)),
        },
        "channels": _channels(rs, figures, now),
        "ratios": figures["ratios"],
        "onsets": figures["onsets"],
        "angles": figures["angles"],
        "sensors": _sensors(rs),
        "events": events[-20:],
        "verdict": rs.verdict,
        "paths": rs.paths,
        "messages": rs.messages,
    }
