"""``nkt-motion decode``: decode one notification payload and print it as JSON."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from nkt_motion.devices import PROFILES, get_profile
from nkt_motion.devices.polar import sample_times_ns
from nkt_motion.errors import ValidationError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``decode`` subcommand to the ``nkt-motion`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The top-level parser's subparsers.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["decode", "--device", "myo", "--char", "d5060402", "00"]).device
    'myo'
    """
    parser = subparsers.add_parser(
        "decode",
        help="decode one BLE notification payload (hex) and print its samples as JSON",
        description="Decode one notification payload of a supported sensor and print the "
        "samples in physical units, with channels, rate and counters, as JSON.",
    )
    parser.add_argument("--device", required=True, choices=sorted(PROFILES), help="profile")
    parser.add_argument(
        "--char",
        required=True,
        metavar="UUID",
        help="characteristic UUID (128-bit, or its first 8 hex digits when unambiguous)",
    )
    parser.add_argument("payload", metavar="HEX", help="payload bytes in hex (spaces allowed)")
    parser.add_argument("--indent", type=int, default=None, help="indent the JSON output")
    parser.set_defaults(func=run)


def _parse_hex(text: str) -> bytes:
    cleaned = re.sub(r"[\s:]", "", text)
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise ValidationError(
            f"payload must be hex digits (pairs, spaces allowed), got {text!r}",
            parameter="payload",
        ) from None


def _resolve_char(device: str, char: str) -> str:
    profile = PROFILES[device]
    wanted = char.strip().lower()
    hits = [c.uuid for c in profile.characteristics if c.uuid.startswith(wanted)]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(c.uuid for c in profile.notify_characteristics)
    raise ValidationError(
        f"{device}: unknown characteristic {char!r}; its data characteristics are {known}",
        parameter="char",
    )


def run(args: argparse.Namespace) -> int:
    """Decode ``args.payload`` with the profile ``args.device`` and print JSON on stdout.

    Parameters
    ----------
    args : argparse.Namespace
        ``device``, ``char``, ``payload`` and ``indent``.

    Returns
    -------
    int
        0 on success (chunks with a device time also get ``sample_times_ns``).
        Bad hex, an unknown characteristic or an undecodable payload raise an
        :class:`~nkt_motion.errors.NktMotionError`, which the command line reports
        on stderr with exit status 2.

    Examples
    --------
    >>> ns = argparse.Namespace(device="myo", char="d5060105", indent=None,
    ...     payload="090d01fefefefa0206e9fcfdfcfe0502")
    >>> run(ns)  # doctest: +ELLIPSIS
    {"device": "myo", "characteristic": "d5060105-a904-deb9-4748-2c7f4a124842", ...}
    0
    """
    payload = _parse_hex(args.payload)
    profile = get_profile(args.device)
    chunk = profile.decode(_resolve_char(args.device, args.char), payload)
    out = chunk.to_dict()
    if chunk.device_time_ns is not None:
        # Device time stamps the last sample; space the others at the nominal rate
        # (the Polar SDK's rule for a frame without a predecessor).
        times = sample_times_ns(chunk.device_time_ns, chunk.n_samples, fs=chunk.fs)
        out["sample_times_ns"] = times.tolist()
    sys.stdout.write(json.dumps(out, indent=args.indent) + "\n")
    return 0
