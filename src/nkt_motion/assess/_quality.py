"""The ``quality`` block of an assessment: per side, then merged over the sides."""

from __future__ import annotations

from typing import Any

from nkt_motion.assess._pairs import SideData
from nkt_motion.vocab import muscle_id, muscle_name

__all__ = ["merge_quality", "side_quality"]


def side_quality(data: SideData) -> dict[str, Any]:
    """Return the ``quality`` block of ``analyze --json`` for one side.

    Parameters
    ----------
    data : SideData
        The side's analysis.

    Returns
    -------
    dict
        ``side``, ``ok``, ``channels`` (per muscle: ``muscle``, ``channel``,
        ``ok``, ``reasons``, ``side``, ``normalisation``), ``notch_hz``,
        ``normalisation``, ``onset_method``, ``n_trials``, ``problem``.

    Examples
    --------
    >>> from nkt_motion.assess._pairs import analyse_side
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> q = side_quality(analyse_side(s, "hip_flexion_gmed_adl", "L"))
    >>> q["ok"], [c["channel"] for c in q["channels"]]
    (True, ['EMG GMED L', 'EMG ADL L'])
    """
    table, ctx, error = data.table, data.ctx, data.error
    norm = table.attrs.get("normalisation", {}) if table is not None else {}
    channels = []
    for code in ctx.muscles:
        reasons: list[str] = []
        if code in ctx.missing:
            reasons.append(f"no EMG channel for {muscle_name(code)}")
        elif table is not None and f"quality_reason_{code}" in table:
            reasons += [str(r) for r in table[f"quality_reason_{code}"].unique() if r]
        channels.append(
            {
                "muscle": muscle_id(code),
                "channel": ctx.channels.get(code),
                "ok": not reasons and table is not None,
                "reasons": reasons or ([error] if error else []),
                "side": ctx.side,
                "normalisation": norm.get(code),
            }
        )
    attrs = table.attrs if table is not None else {}
    return {
        "side": ctx.side,
        "ok": all(c["ok"] for c in channels),
        "channels": channels,
        "notch_hz": attrs.get("notch_hz"),
        "normalisation": {muscle_id(k): v for k, v in attrs.get("normalisation", {}).items()},
        "onset_method": attrs.get("onset_method"),
        "n_trials": 0 if table is None else len(table),
        "problem": error or None,
    }


def merge_quality(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the sides' quality blocks into one.

    Parameters
    ----------
    parts : list of dict
        From :func:`side_quality`, one per side.

    Returns
    -------
    dict
        One side's block as it is. Several: all channels, ``ok`` when every
        side is, trials summed, the first notch found, problems joined, per
        muscle the normalisations used (``"reference / task_peak"`` when the
        sides differ), and ``sides``: each side's own block without its
        channels (its ``normalisation``, ``n_trials``, ``problem``...), by side.

    Examples
    --------
    >>> a = {"side": "L", "ok": True, "channels": [1], "notch_hz": None,
    ...      "normalisation": {"m": "reference"}, "onset_method": "tkeo", "n_trials": 4,
    ...      "problem": None}
    >>> b = a | {"side": "R", "ok": False, "channels": [2], "normalisation": {"m": "task_peak"}}
    >>> m = merge_quality([a, b])
    >>> m["ok"], m["channels"], m["n_trials"], m["normalisation"]
    (False, [1, 2], 8, {'m': 'reference / task_peak'})
    >>> m["sides"]["R"]["normalisation"], "side" in m
    ({'m': 'task_peak'}, False)
    """
    if len(parts) == 1:
        return parts[0]
    out = {k: v for k, v in parts[0].items() if k != "side"}
    out["channels"] = [c for q in parts for c in q["channels"]]
    out["ok"] = all(q["ok"] for q in parts)
    out["n_trials"] = sum(q["n_trials"] for q in parts)
    out["notch_hz"] = next((q["notch_hz"] for q in parts if q["notch_hz"]), None)
    problems = [q["problem"] for q in parts if q["problem"]]
    out["problem"] = "; ".join(problems) or None
    norm: dict[str, set[str]] = {}
    for q in parts:
        for k, v in q["normalisation"].items():
            norm.setdefault(k, set()).add(v)
    out["normalisation"] = {k: " / ".join(sorted(v)) for k, v in norm.items()}
    out["sides"] = {
        q["side"]: {k: v for k, v in q.items() if k not in ("side", "channels")} for q in parts
    }
    return out
