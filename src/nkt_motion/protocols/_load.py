"""Find, read and match protocol files: the built-ins and a user directory."""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Final

from nkt_motion.errors import NktMotionError, ProtocolFileError, VocabularyError
from nkt_motion.protocols._model import Protocol
from nkt_motion.protocols._parse import parse_protocol
from nkt_motion.vocab import muscle_id, parse_event_label

__all__ = [
    "ENV_VAR",
    "AmbiguousProtocolError",
    "UnknownProtocolError",
    "list_protocols",
    "load_protocol",
    "match_protocol",
    "read_protocol_file",
]

logger = logging.getLogger(__name__)

#: Environment variable naming a directory of user protocol files.
ENV_VAR: Final = "NKT_MOTION_PROTOCOLS"


class UnknownProtocolError(NktMotionError, LookupError):
    """No protocol has the name asked for.

    Parameters
    ----------
    name : str
        The name asked for.
    known : sequence of str
        The names that exist.

    Examples
    --------
    >>> print(UnknownProtocolError("hip", ["a", "b"]))
    unknown protocol 'hip'; known protocols are a, b
    """

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown protocol {name!r}; known protocols are {', '.join(self.known)}")


class AmbiguousProtocolError(NktMotionError, ValueError):
    """A session's muscles and events fit several protocols equally well.

    Parameters
    ----------
    candidates : sequence of str
        Names of the protocols that fit.

    Examples
    --------
    >>> print(AmbiguousProtocolError(["a", "b"]))
    the session fits several protocols equally well: a, b; name the protocol explicitly
    """

    def __init__(self, candidates: Iterable[str]) -> None:
        self.candidates = tuple(candidates)
        super().__init__(
            "the session fits several protocols equally well: "
            f"{', '.join(self.candidates)}; name the protocol explicitly"
        )


def read_protocol_file(path: str | Path) -> Protocol:
    """Read and validate one protocol file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` file; its ``name`` field must equal the file stem.

    Returns
    -------
    Protocol
        The validated protocol.

    Raises
    ------
    ProtocolFileError
        If the file cannot be read, is not TOML or has a wrong field; the error
        names the file and the dotted field.

    Examples
    --------
    >>> read_protocol_file("no/such/file.toml")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ProtocolFileError: no/such/file.toml: cannot read the file: ...
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProtocolFileError(f"cannot read the file: {msg}", path=file) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolFileError(f"not valid TOML: {exc}", path=file) from exc
    protocol = parse_protocol(data, path=file, expected_name=file.stem)
    logger.debug("read protocol %s from %s", protocol.name, file)
    return protocol


def _builtin_files() -> list[Path]:
    root = resources.files("nkt_motion.protocols")
    return sorted(Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".toml"))


def _user_dir(user_dir: str | Path | None) -> Path | None:
    if user_dir is not None:
        return Path(user_dir)
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env) if env else None


def _user_files(user_dir: str | Path | None) -> list[Path]:
    folder = _user_dir(user_dir)
    if folder is None:
        return []
    if not folder.is_dir():
        raise ProtocolFileError("the user protocol directory does not exist", path=folder)
    return sorted(folder.glob("*.toml"))


def list_protocols(*, user_dir: str | Path | None = None) -> list[Protocol]:
    """Return the built-in protocols and the user's, sorted by name.

    Parameters
    ----------
    user_dir : str or Path, optional
        A directory of extra ``*.toml`` protocol files; defaults to the
        directory named by the ``NKT_MOTION_PROTOCOLS`` environment variable,
        if set.

    Returns
    -------
    list of Protocol
        Every protocol, validated.

    Raises
    ------
    ProtocolFileError
        If a file is invalid, the directory does not exist, or a user protocol
        reuses the name of another protocol.

    Examples
    --------
    >>> names = [p.name for p in list_protocols()]
    >>> "single_leg_stance" in names
    True
    """
    found: dict[str, Protocol] = {}
    for file in (*_builtin_files(), *_user_files(user_dir)):
        protocol = read_protocol_file(file)
        other = found.get(protocol.name)
        if other is not None:
            raise ProtocolFileError(
                f"protocol name {protocol.name!r} is already used by {other.path}",
                path=file,
                field="name",
            )
        found[protocol.name] = protocol
    return [found[name] for name in sorted(found)]


def load_protocol(name_or_path: str | Path, *, user_dir: str | Path | None = None) -> Protocol:
    """Load one protocol by name (built-in or user) or from a file path.

    Parameters
    ----------
    name_or_path : str or Path
        A protocol name such as ``"side_lying_abduction"``, or the path of a
        ``.toml`` file.
    user_dir : str or Path, optional
        Directory of user protocols searched after the built-ins (default: the
        ``NKT_MOTION_PROTOCOLS`` environment variable).

    Returns
    -------
    Protocol
        The validated protocol.

    Raises
    ------
    UnknownProtocolError
        If no protocol has that name; the message lists the known names.
    ProtocolFileError
        If the file is invalid.

    Examples
    --------
    >>> load_protocol("scapular_control").tested
    ('LT', 'SA')
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or os.sep in text:
        return read_protocol_file(name_or_path)
    for file in (*_builtin_files(), *_user_files(user_dir)):
        if file.stem == text:
            return read_protocol_file(file)
    known = sorted(f.stem for f in (*_builtin_files(), *_user_files(user_dir)))
    raise UnknownProtocolError(text, known)


def _session_tested(event_labels: Iterable[str]) -> frozenset[str]:
    tested = set()
    for text in event_labels:
        try:
            label = parse_event_label(text)
        except VocabularyError:
            logger.debug("ignoring event label %r while matching protocols", text)
            continue
        if label.is_test and label.muscle is not None:
            tested.add(label.muscle)
    return frozenset(tested)


def match_protocol(
    channels_muscles: Iterable[str],
    event_labels: Iterable[str],
    *,
    protocols: Iterable[Protocol] | None = None,
) -> Protocol | None:
    """Infer which protocol a session followed from its EMG muscles and event labels.

    A protocol fits when the session records every muscle of the protocol
    and, if the session has test events (``pre/test/<CODE>``,
    ``post/test/<CODE>``), its tested muscles are exactly the protocol's. Of
    the protocols that fit, the one leaving the fewest session muscles
    unexplained wins.

    Parameters
    ----------
    channels_muscles : iterable of str
        Muscle ids or codes of the session's EMG channels.
    event_labels : iterable of str
        The session's event labels; labels outside the conventions are ignored.
    protocols : iterable of Protocol, optional
        Candidates; defaults to :func:`list_protocols`.

    Returns
    -------
    Protocol or None
        The best fit, or None when no protocol fits.

    Raises
    ------
    AmbiguousProtocolError
        If several protocols fit equally well.
    VocabularyError
        If a muscle is unknown.

    Examples
    --------
    >>> match_protocol({"GMED", "ADL"}, {"pre/test/GMED", "post/test/GMED"}).name
    'hip_flexion_gmed_adl'
    >>> match_protocol({"TA", "SOL"}, {"pre/test/TA"}) is None
    True
    """
    muscles = frozenset(muscle_id(m) for m in channels_muscles)
    tested = _session_tested(event_labels)
    pool = list_protocols() if protocols is None else list(protocols)
    fits = [
        p
        for p in pool
        if p.muscle_ids <= muscles and (not tested or frozenset(p.tested_ids) == tested)
    ]
    if not fits:
        return None
    best = min(len(muscles - p.muscle_ids) for p in fits)
    winners = [p for p in fits if len(muscles - p.muscle_ids) == best]
    if len(winners) > 1:
        raise AmbiguousProtocolError(sorted(p.name for p in winners))
    return winners[0]
