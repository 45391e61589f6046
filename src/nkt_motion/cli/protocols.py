"""``nkt-motion protocols``: list the test protocols, or show one for a practitioner."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from nkt_motion.protocols import Protocol, Step, list_protocols, load_protocol
from nkt_motion.vocab import muscle_name

__all__ = ["format_list", "format_protocol", "register", "run"]

_WIDTH = 88


def register(subparsers: Any) -> None:
    """Add the ``protocols`` subcommand (and its ``show NAME`` action).

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["protocols", "show", "single_leg_stance"]).name
    'single_leg_stance'
    """
    parser = subparsers.add_parser(
        "protocols",
        help="list the NKT test protocols, or show one ('protocols show NAME')",
        description="List the built-in and user test protocols, or show one in full.",
    )
    help_dir = "extra directory of protocol .toml files (default: $NKT_MOTION_PROTOCOLS)"
    parser.add_argument("--dir", dest="protocol_dir", default=None, help=help_dir)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="show one protocol for a practitioner")
    show.add_argument("name", help="protocol name, or path of a protocol .toml file")
    show.add_argument("--dir", dest="protocol_dir", default=argparse.SUPPRESS, help=help_dir)
    parser.set_defaults(func=run, action=None)


def run(args: argparse.Namespace) -> int:
    """Print the list of protocols, or one protocol.

    Parameters
    ----------
    args : argparse.Namespace
        ``action`` (None or ``"show"``), ``name`` and ``protocol_dir``.

    Returns
    -------
    int
        0 on success; an unknown name raises
        :class:`~nkt_motion.protocols.UnknownProtocolError`, which ``main``
        reports with the known names.

    Examples
    --------
    >>> run(argparse.Namespace(action=None, protocol_dir=None))  # doctest: +ELLIPSIS
    hip_flexion_gmed_adl ...
    0
    """
    user_dir = getattr(args, "protocol_dir", None)
    if args.action == "show":
        print(format_protocol(load_protocol(args.name, user_dir=user_dir)))
    else:
        print(format_list(list_protocols(user_dir=user_dir)))
    return 0


def _muscles(codes: tuple[str, ...]) -> str:
    return ", ".join(f"{c} ({muscle_name(c)})" for c in codes)


def format_list(protocols: list[Protocol]) -> str:
    """Return one block per protocol: name, tested vs partners, title.

    Parameters
    ----------
    protocols : list of Protocol
        The protocols to list.

    Returns
    -------
    str
        Plain text.

    Examples
    --------
    >>> print(format_list([load_protocol("hip_flexion_gmed_adl")]))
    hip_flexion_gmed_adl  GMED vs ADL
        Standing hip flexion: gluteus medius vs adductor longus
    """
    width = max((len(p.name) for p in protocols), default=0)
    blocks = []
    for p in protocols:
        partners = ", ".join(q.code for q in p.partners)
        blocks.append(f"{p.name:<{width}}  {' + '.join(p.tested)} vs {partners}\n    {p.title}")
    return "\n".join(blocks)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _head(p: Protocol) -> list[str]:
    side = "record which side is tested" if p.side_required else "either side"
    lines = [f"{p.title}  [{p.name} v{p.version}]", _wrap(p.summary, ""), ""]
    lines.append(_wrap(f"Tested: {_muscles(p.tested)} ({side})", ""))
    lines.append("Candidate compensating partners:")
    lines += [_wrap(f"{q.code} ({muscle_name(q.code)}): {q.role}", "  ") for q in p.partners]
    return lines


def _task(p: Protocol) -> list[str]:
    t = p.task
    return [
        "",
        "Task",
        _wrap(f"Start position: {t.position}", "  "),
        _wrap(f"Movement: {t.movement}", "  "),
        _wrap(f"Practitioner: {t.practitioner}", "  "),
        _wrap(f'Say to the client: "{t.client}"', "  "),
        f"  Repetitions: {t.repetitions} x {t.duration_s:g} s",
        _wrap(f"Cues: {' / '.join(t.cues)}", "  "),
    ]


def _sensors(p: Protocol) -> list[str]:
    lines = ["", "Electrodes (bipolar surface EMG)"]
    for e in p.electrodes:
        lines.append(f"  {e.muscle} ({muscle_name(e.muscle)}) [{e.standard}]")
        lines.append(_wrap(f"Placement: {e.placement}", "    "))
        lines.append(_wrap(f"Orientation: {e.orientation}", "    "))
        lines.append(_wrap(f"Reference electrode: {e.reference}", "    "))
        lines.append(_wrap(f"Source: {e.source}", "    "))
    lines += ["", "IMU sensors"]
    lines += [_wrap(f"{m.site}: {m.mounting} Measures: {m.purpose}", "  ") for m in p.imu]
    if not p.imu:
        lines.append("  none")
    lines += ["", "Kinematic signs of compensation"]
    for s in p.kinematic_signs:
        text = f"{s.sign.replace('_', ' ')}: flagged above {s.threshold_deg:g} deg. {s.source}"
        lines.append(_wrap(text, "  "))
    if not p.kinematic_signs:
        lines.append("  none")
    return lines


def _rules(p: Protocol) -> list[str]:
    r = p.rules
    text = (
        f"Ratio change that matters: {r.ratio_change_threshold:.0%}; partner fires first if "
        f"it leads by > {r.onset_margin_ms:g} ms; kinematic change beyond "
        f"{r.kinematic_threshold_deg:g} deg; at least {r.min_trials} trials per test."
    )
    return ["", "Rules", _wrap(text, "  "), _wrap(f"Source: {r.source}", "  ")]


def _step(i: int, s: Step) -> list[str]:
    facts: list[str] = [s.kind]
    if s.event is not None:
        facts.append(f"event {s.event}")
    if s.n_trials is not None:
        facts.append(f"{s.n_trials} trials")
    if s.duration_s is not None:
        facts.append(f"{s.duration_s:g} s each" if s.n_trials else f"{s.duration_s:g} s")
    return [f"  {i}. {s.title} [{', '.join(facts)}]", _wrap(s.instruction, "     ")]


def format_protocol(protocol: Protocol) -> str:
    """Return a protocol as text for a practitioner.

    Parameters
    ----------
    protocol : Protocol
        The protocol.

    Returns
    -------
    str
        Summary, muscles and roles, task, electrodes (SENIAM or convention),
        IMU sites, kinematic signs, rules, steps in order, sources, and the
        reminder that this is a measurement, not a diagnosis.

    Examples
    --------
    >>> text = format_protocol(load_protocol("side_lying_abduction"))
    >>> "QL (quadratus lumborum) [convention]" in text
    True
    """
    lines = [*_head(protocol), *_task(protocol), *_sensors(protocol), *_rules(protocol)]
    lines += ["", "Steps"]
    for i, step in enumerate(protocol.steps, start=1):
        lines += _step(i, step)
    if protocol.sources:
        lines += ["", "Sources"]
        lines += [_wrap(f"- {src}", "  ") for src in protocol.sources]
    lines += ["", "nkt-motion measures; it does not diagnose."]
    return "\n".join(lines)
