"""Write the report as one self-contained HTML file.

Figures are embedded as base64 PNG ``data:`` URIs and the style sheet is inline,
so the file opens offline and can be mailed as it is: no external CSS,
scripts, fonts or images. Every piece of text is escaped with
:func:`html.escape`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from nkt_motion.report._text import ELECTRODE_COLUMNS, VerdictBlock

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ReportContent", "figure_png", "render_html"]

_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}tr.bad td{background:#fde0dd}
.disclaimer{background:#fff7e6;border-left:4px solid #e6a700;padding:.6em 1em}
.verdict{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:1em 0}
.verdict .word{font-weight:bold;text-transform:uppercase;padding:.1em .5em;border-radius:4px}
.v-resolved .word,.v-improved .word{background:#d9f0d3}.v-worse .word{background:#fde0dd}
.v-unchanged .word,.v-inconclusive .word{background:#eee}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}
"""


class ReportContent:
    """The parts of a report, already in words and figures.

    Parameters
    ----------
    title : str
        Page title.
    header : sequence of (str, str)
        Client and session fields.
    verdicts : sequence of VerdictBlock
        One per tested:partner pair.
    protocol : sequence of (str, str)
        Protocol fields (name, title, task, summary).
    electrodes : sequence of tuple of str
        Placement rows.
    electrode_head : sequence of str
        Their column names (default :data:`~nkt_motion.report._text.ELECTRODE_COLUMNS`).
    quality : pandas.DataFrame or mapping of str to pandas.DataFrame
        Signal-quality table, or one per tested side (heading -> table).
    figures : sequence of (str, str, Figure)
        Id, caption, figure.
    caveats : sequence of str
        Plain-word limits.
    methods : sequence of (str, str)
        Methods fields.
    disclaimer : str
        The measurement-not-diagnosis statement.
    """

    def __init__(
        self,
        *,
        title: str,
        header: Sequence[tuple[str, str]],
        verdicts: Sequence[VerdictBlock],
        protocol: Sequence[tuple[str, str]],
        electrodes: Sequence[tuple[str, ...]],
        quality: pd.DataFrame | Mapping[str, pd.DataFrame],
        figures: Sequence[tuple[str, str, Figure]],
        caveats: Sequence[str],
        methods: Sequence[tuple[str, str]],
        disclaimer: str,
        electrode_head: Sequence[str] = ELECTRODE_COLUMNS,
    ) -> None:
        self.title = title
        self.header = list(header)
        self.verdicts = list(verdicts)
        self.protocol = list(protocol)
        self.electrodes = list(electrodes)
        self.electrode_head = tuple(electrode_head)
        self.quality = quality
        self.figures = list(figures)
        self.caveats = list(caveats)
        self.methods = list(methods)
        self.disclaimer = disclaimer


def figure_png(fig: Figure, *, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes (no pyplot, no GUI backend).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int
        Resolution.

    Returns
    -------
    bytes
        The PNG file.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[1:4]
    b'PNG'
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _table(head: Sequence[str], rows: Sequence[Sequence[object]], bad: Sequence[bool] = ()) -> str:
    th = "".join(f"<th>{escape(str(h))}</th>" for h in head)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="bad"' if i < len(bad) and bad[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fields(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _verdict(b: VerdictBlock) -> str:
    head = ("phase", "ratio", "interval", "trials", "p_compensation (rules)", "flagged", "reasons")
    return (
        f'<div class="verdict v-{escape(b.verdict)}"><h3>{escape(b.title)} '
        f'<span class="word">{escape(b.verdict)}</span></h3>'
        f"<p><strong>{escape(b.headline)}</strong> {escape(b.change)}.</p>"
        f"<p>Why: {escape(b.why)}.</p>{_table(head, b.phases)}"
        + "".join(f"<p>{escape(x)}.</p>" for x in (b.other_side, b.per_trial) if x)
        + "</div>"
    )


def _value(v: object) -> object:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.3g}" if np.isfinite(v) else "-"
    return v if v != "" else "-"


def _quality(q: pd.DataFrame | Mapping[str, pd.DataFrame]) -> str:
    if not isinstance(q, pd.DataFrame):
        return "".join(f"<h3>{escape(head)}</h3>{_quality(t)}" for head, t in q.items())
    if q.empty:
        return "<p>No EMG channel could be checked.</p>"
    shown = q.map(_value)
    bad = [not bool(v) for v in q["ok"]] if "ok" in q else []
    return _table(list(q.columns), shown.to_numpy().tolist(), bad)


def _figure(fid: str, caption: str, fig: Figure) -> str:
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return (
        f'<figure id="fig-{escape(fid)}"><img alt="{escape(caption)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


def render_html(c: ReportContent) -> str:
    """Render the report content as one self-contained HTML document.

    Parameters
    ----------
    c : ReportContent
        The content.

    Returns
    -------
    str
        The HTML text; sections ``header``, ``result``, ``protocol``,
        ``quality``, ``figures``, ``caveats``, ``methods``, ``disclaimer``.
    """
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(c.title)}</title><style>{_CSS}</style></head><body>",
        f'<header id="header"><h1>{escape(c.title)}</h1>'
        f'<p class="disclaimer">{escape(c.disclaimer)}</p>{_fields(c.header)}</header>',
        '<section id="result"><h2>Result</h2>' + "".join(map(_verdict, c.verdicts)),
        "</section>" if c.verdicts else "<p>No tested:partner pair.</p></section>",
        f'<section id="protocol"><h2>Protocol and electrode placement</h2>{_fields(c.protocol)}'
        f"{_table(c.electrode_head, c.electrodes)}</section>",
        f'<section id="quality"><h2>Signal quality</h2>{_quality(c.quality)}</section>',
        '<section id="figures"><h2>Figures</h2>'
        + "".join(_figure(*f) for f in c.figures)
        + "</section>",
        '<section id="caveats"><h2>Caveats</h2><ul>'
        + "".join(f"<li>{escape(x)}</li>" for x in c.caveats)
        + "</ul></section>",
        f'<section id="methods"><h2>Methods</h2>{_fields(c.methods)}</section>',
        f'<footer id="disclaimer"><p class="disclaimer">{escape(c.disclaimer)}</p></footer>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
