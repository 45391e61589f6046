"""Typed access to one TOML table, with errors that name the file and the dotted field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from nkt_motion.errors import ProtocolFileError

__all__ = ["Table"]

_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    dict: "a table",
    list: "an array",
}


def _type_name(value: object) -> str:
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Table:
    """A TOML table with the path of its file and its dotted position in it.

    Every getter checks presence and type and raises
    :class:`~nkt_motion.errors.ProtocolFileError` with ``path`` and the dotted
    ``field`` (``"steps[2].n_trials"``).

    Parameters
    ----------
    data : mapping
        The parsed table.
    path : Path or None
        The file, for messages.
    prefix : str
        Dotted position of this table (``""`` at the top level).

    Examples
    --------
    >>> Table({"n": 3}, None, "rules").integer("n", minimum=1)
    3
    """

    data: Mapping[str, Any]
    path: Path | None
    prefix: str = ""

    def field(self, key: str) -> str:
        """Return the dotted name of ``key`` in this table.

        Parameters
        ----------
        key : str
            Key or array index text (``"[0]"``).

        Returns
        -------
        str
            For example ``"task.position"``.

        Examples
        --------
        >>> Table({}, None, "task").field("position")
        'task.position'
        """
        if not self.prefix:
            return key
        return f"{self.prefix}{key}" if key.startswith("[") else f"{self.prefix}.{key}"

    def fail(self, key: str | None, message: str) -> NoReturn:
        """Raise a :class:`ProtocolFileError` about ``key`` (or this table when None).

        Parameters
        ----------
        key : str or None
            The offending key.
        message : str
            What is wrong.

        Raises
        ------
        ProtocolFileError
            Always.

        Examples
        --------
        >>> Table({}, None, "rules").fail("min_trials", "must be >= 1")
        Traceback (most recent call last):
        ...
        nkt_motion.errors.ProtocolFileError: field 'rules.min_trials': must be >= 1
        """
        where = (self.prefix or None) if key is None else self.field(key)
        raise ProtocolFileError(message, path=self.path, field=where)

    def check_keys(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        """Reject unknown keys (typos) and report the first missing required key.

        Parameters
        ----------
        required, optional : iterable of str
            The keys this table must and may have.

        Examples
        --------
        >>> Table({"titel": "x"}, None).check_keys(["title"])
        Traceback (most recent call last):
        ...
        nkt_motion.errors.ProtocolFileError: field 'titel': unknown key; allowed keys are title
        """
        required = tuple(required)
        allowed = (*required, *optional)
        for key in self.data:
            if key not in allowed:
                self.fail(key, f"unknown key; allowed keys are {', '.join(allowed)}")
        for key in required:
            if key not in self.data:
                self.fail(key, "required field is missing")

    def _get(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        if key not in self.data:
            self.fail(key, "required field is missing")
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            self.fail(key, f"must be {what}, got {_type_name(value)} {value!r}")
        return value

    def text(self, key: str) -> str:
        """Return a non-empty string.

        Examples
        --------
        >>> Table({"title": " Hip "}, None).text("title")
        'Hip'
        """
        value: str = self._get(key, str, "a non-empty string").strip()
        if not value:
            self.fail(key, "must be a non-empty string")
        return value

    def flag(self, key: str) -> bool:
        """Return a boolean.

        Examples
        --------
        >>> Table({"side_required": True}, None).flag("side_required")
        True
        """
        value: bool = self._get(key, bool, "true or false")
        return value

    def integer(self, key: str, *, minimum: int) -> int:
        """Return an integer of at least ``minimum``.

        Examples
        --------
        >>> Table({"n_trials": 0}, None, "steps[1]").integer("n_trials", minimum=1)
        Traceback (most recent call last):
        ...
        nkt_motion.errors.ProtocolFileError: field 'steps[1].n_trials': must be >= 1, got 0
        """
        value: int = self._get(key, int, "an integer")
        if value < minimum:
            self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def number(self, key: str, *, minimum: float, maximum: float | None = None) -> float:
        """Return a number in ``[minimum, maximum]`` (maximum optional).

        Examples
        --------
        >>> Table({"duration_s": 5}, None).number("duration_s", minimum=0.0)
        5.0
        """
        value = float(self._get(key, (int, float), "a number"))
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and <= {maximum}"
            self.fail(key, f"must be >= {minimum}{upper}, got {value}")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """Return an array of non-empty strings (may be empty).

        Examples
        --------
        >>> Table({"cues": ["slowly"]}, None).texts("cues")
        ('slowly',)
        """
        items: list[Any] = self._get(key, list, "an array of strings")
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{key}[{i}]", f"must be a non-empty string, got {item!r}")
        return tuple(item.strip() for item in items)

    def table(self, key: str) -> Table:
        """Return a sub-table.

        Examples
        --------
        >>> Table({"task": {"a": 1}}, None).table("task").prefix
        'task'
        """
        value: dict[str, Any] = self._get(key, dict, "a table")
        return Table(value, self.path, self.field(key))

    def tables(self, key: str) -> list[Table]:
        """Return an array of tables (``[[key]]`` in TOML); it may be empty.

        Examples
        --------
        >>> [t.prefix for t in Table({"steps": [{}, {}]}, None).tables("steps")]
        ['steps[0]', 'steps[1]']
        """
        items: list[Any] = self._get(key, list, "an array of tables")
        out = []
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(where, f"must be a table, got {_type_name(item)} {item!r}")
            out.append(Table(item, self.path, self.field(where)))
        return out
