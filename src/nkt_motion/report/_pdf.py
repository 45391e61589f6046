"""Write the report as a PDF: text pages first, then one figure per page.

Uses matplotlib's own PDF writer (:class:`matplotlib.backends.backend_pdf.PdfPages`);
text pages are A4 figures holding wrapped lines of text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Final

from nkt_motion.report._html import ReportContent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["text_lines", "text_pages", "write_pdf"]

_A4: Final = (8.27, 11.69)
_LINES_PER_PAGE: Final = 66
_WIDTH: Final = 105


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent, subsequent_indent=indent) or [""]


def text_lines(c: ReportContent) -> list[tuple[str, str]]:
    """Return the report's words as ``(style, line)`` pairs, style ``title``, ``h``, or ``p``.

    Parameters
    ----------
    c : ReportContent
        The content.

    Returns
    -------
    list of (str, str)
        Wrapped lines in reading order.
    """
    out: list[tuple[str, str]] = [("title", c.title), ("p", "")]
    out += [("p", line) for line in _wrap(c.disclaimer)]
    out += [("p", f"{k}: {v}") for k, v in c.header]
    out += [("p", ""), ("h", "Result")]
    for b in c.verdicts:
        out += [("h", f"{b.title}: {b.verdict.upper()}")]
        for text in (b.headline, b.change, f"Why: {b.why}"):
            out += [("p", line) for line in _wrap(text)]
        for row in b.phases:
            line = f"{row[0]}: ratio {row[1]} ({row[2]}), {row[3]} trials, flagged {row[5]}"
            out += [("p", x) for x in _wrap(line + f"; {row[6]}", "  ")]
        for text in (b.other_side, b.per_trial):
            out += [("p", x) for x in _wrap(text, "  ")] if text else []
    for head, rows in (("Protocol", c.protocol), ("Methods", c.methods)):
        out += [("p", ""), ("h", head)]
        for k, v in rows:
            out += [("p", line) for line in _wrap(f"{k}: {v}")]
    out += [("p", ""), ("h", "Electrode placement")]
    for row in c.electrodes:
        e = dict(zip(c.electrode_head, row, strict=True))
        side = f", {e['side']}" if "side" in e else ""
        line = f"{e['muscle']}{side} ({e['channel']}, {e['standard']}): {e['placement']}"
        out += [("p", x) for x in _wrap(line)]
    out += [("p", ""), ("h", "Caveats")]
    for cav in c.caveats:
        out += [("p", line) for line in _wrap(f"- {cav}")]
    out += [("p", ""), *[("p", line) for line in _wrap(c.disclaimer)]]
    return out


def text_pages(c: ReportContent) -> list[Figure]:
    """Lay the report's words out on A4 pages.

    Parameters
    ----------
    c : ReportContent
        The content.

    Returns
    -------
    list of matplotlib.figure.Figure
        One figure per page.
    """
    from matplotlib.figure import Figure

    lines = text_lines(c)
    pages = []
    for start in range(0, len(lines), _LINES_PER_PAGE):
        fig = Figure(figsize=_A4)
        for i, (style, line) in enumerate(lines[start : start + _LINES_PER_PAGE]):
            size, weight = {"title": (14, "bold"), "h": (10, "bold")}.get(style, (8, "normal"))
            fig.text(0.06, 0.96 - i * 0.0142, line, fontsize=size, weight=weight, va="top",
                     family="DejaVu Sans")  # fmt: skip
        pages.append(fig)
    return pages


def write_pdf(path: Path, c: ReportContent, figures: list[Figure]) -> int:
    """Write the text pages, then one figure per page.

    Parameters
    ----------
    path : pathlib.Path
        Output PDF.
    c : ReportContent
        The content (its figures are not used; pass the PDF figures).
    figures : list of matplotlib.figure.Figure
        Figures in page order.

    Returns
    -------
    int
        Number of pages written.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    from nkt_motion import __version__

    pages = [*text_pages(c), *figures]
    meta = {"Title": c.title, "Creator": f"nkt-motion {__version__}", "Subject": c.disclaimer}
    with PdfPages(path, metadata=meta) as pdf:
        for fig in pages:
            pdf.savefig(fig)
    return len(pages)
