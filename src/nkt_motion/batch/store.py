"""Where a batch keeps its results: the table, and each session's rows for re-runs.

For ``--out results.parquet`` the batch writes:

- ``results.parquet`` and ``results.csv``: the whole table (layout in
  :mod:`nkt_motion.batch.rows`), each written to a temporary file and renamed
  into place, so a reader never sees half a table;
- ``results.parquet.sessions/``: one Parquet file per analysed session
  (``<settings hash 16>_<content hash>.parquet``), written as soon as the
  session is done. A batch that crashes keeps what it finished, and the next
  run reuses every session whose content and settings are unchanged. When this
  folder is missing, the previous ``results.parquet`` is read instead. At the
  end of a run it holds exactly the sessions of the table.

The table is always assembled from the per-session files, so a resumed run
writes the same table, byte for byte in content, as a fresh one.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from nkt_motion.batch.rows import (
    ID_COLUMNS,
    PAIR_COLUMNS,
    SESSION_COLUMNS,
    TRIAL_COLUMNS,
    order_columns,
)
from nkt_motion.errors import ValidationError

__all__ = ["ResultStore"]

logger = logging.getLogger(__name__)

_READ_ERRORS = (OSError, ValueError, ImportError)


def _cannot(path: Path, exc: OSError | str) -> ValidationError:
    why = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    return ValidationError(f"cannot write the results to {path}: {why}", parameter="out")


class ResultStore:
    """The output files of one batch (see the module notes).

    Parameters
    ----------
    out : str or Path
        The Parquet file (``.parquet``); the CSV is written beside it.

    Raises
    ------
    ValidationError
        If ``out`` does not end in ``.parquet``.

    Examples
    --------
    >>> import tempfile
    >>> store = ResultStore(Path(tempfile.mkdtemp()) / "r.parquet")
    >>> store.prepare()
    >>> store.csv.name, store.parts.name
    ('r.csv', 'r.parquet.sessions')
    >>> ResultStore("r.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ValidationError: out must name a .parquet file (...), got 'r.csv'
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out).absolute()
        if self.out.suffix.lower() != ".parquet":
            raise ValidationError(
                f"out must name a .parquet file (the CSV is written beside it), got {str(out)!r}",
                parameter="out",
            )
        self.csv = self.out.with_suffix(".csv")
        self.parts = self.out.with_name(self.out.name + ".sessions")

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """The table, its CSV and the per-session folder."""
        return self.out, self.csv, self.parts

    def prepare(self) -> None:
        """Check that every output can be written, before anything is analysed.

        Raises
        ------
        ValidationError
            Naming the path and the reason (a folder in the way, no permission,
            a file where a folder should be...).
        """
        for p in (self.out, self.csv):
            if p.is_dir():
                raise _cannot(p, "it is a folder")
            if p.exists() and not os.access(p, os.W_OK):
                raise _cannot(p, "permission denied")
        if self.parts.exists() and not self.parts.is_dir():
            raise _cannot(self.parts, "it is not a folder")
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.out.parent, prefix=".probe-"):
                pass
        except OSError as exc:
            raise _cannot(self.out, exc) from None

    def part_path(self, settings_hash: str, content_hash: str) -> Path:
        """Return the per-session file of a session (whether or not it exists)."""
        return self.parts / f"{settings_hash[:16]}_{content_hash}.parquet"

    def save(self, rows: pd.DataFrame, *, settings_hash: str, content_hash: str) -> Path:
        """Keep one analysed session's rows (atomically).

        Parameters
        ----------
        rows : pandas.DataFrame
            The session's rows.
        settings_hash, content_hash : str
            Its identity.

        Returns
        -------
        Path
            The file written.
        """
        path = self.part_path(settings_hash, content_hash)
        self.parts.mkdir(exist_ok=True)
        _atomic(path, lambda tmp: rows.to_parquet(tmp, index=False))
        return path

    def cached(self, content_hashes: Iterable[str], *, settings_hash: str) -> set[str]:
        """Return which sessions already have good results for these settings.

        Per-session files count first; a session without one is taken from the
        previous table when it holds good rows for it (they are then saved as
        a per-session file).

        Parameters
        ----------
        content_hashes : iterable of str
            The sessions to look up.
        settings_hash : str
            Hash of the current settings.

        Returns
        -------
        set of str
            Content hashes whose rows are available.
        """
        wanted = set(content_hashes)
        found = {h for h in wanted if self.part_path(settings_hash, h).is_file()}
        missing = wanted - found
        if missing and self.out.is_file():
            found |= self._from_table(missing, settings_hash)
        return found

    def _from_table(self, wanted: set[str], settings_hash: str) -> set[str]:
        try:
            old = pd.read_parquet(self.out)
        except _READ_ERRORS as exc:
            logger.warning("previous results %s cannot be read (%s); not reused", self.out, exc)
            return set()
        if not {"content_hash", "settings_hash", "status", "duplicate_of"} <= set(old.columns):
            return set()
        good = old[
            old["content_hash"].isin(wanted)
            & (old["settings_hash"] == settings_hash)
            & old["duplicate_of"].isna()
        ]
        found = set()
        for digest, rows in good.groupby("content_hash", sort=False):
            if (rows["status"] == "ok").all():
                self.save(rows.dropna(axis=1, how="all"), settings_hash=settings_hash,
                          content_hash=str(digest))  # fmt: skip
                found.add(str(digest))
        return found

    def load(self, *, settings_hash: str, content_hash: str) -> pd.DataFrame:
        """Read one session's kept rows.

        Parameters
        ----------
        settings_hash, content_hash : str
            Its identity.

        Returns
        -------
        pandas.DataFrame
            Its rows.
        """
        return pd.read_parquet(self.part_path(settings_hash, content_hash))

    def finish(self, pieces: Sequence[pd.DataFrame], *, keep: Iterable[Path]) -> pd.DataFrame:
        """Write the table (Parquet and CSV) and drop per-session files not in it.

        Parameters
        ----------
        pieces : sequence of pandas.DataFrame
            Rows of every session, in table order.
        keep : iterable of Path
            Per-session files of this table.

        Returns
        -------
        pandas.DataFrame
            The table written.
        """
        table = assemble(pieces)
        _atomic(self.out, lambda tmp: table.to_parquet(tmp, index=False))
        _atomic(self.csv, lambda tmp: table.to_csv(tmp, index=False))
        kept = {Path(p).name for p in keep}
        for p in self.parts.glob("*.parquet") if self.parts.is_dir() else ():
            if p.name not in kept:
                p.unlink()
        return table


def assemble(pieces: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate sessions' rows into the table, with every documented column.

    Parameters
    ----------
    pieces : sequence of pandas.DataFrame
        Rows of each session.

    Returns
    -------
    pandas.DataFrame
        Columns ordered by :func:`~nkt_motion.batch.rows.order_columns`; the
        identity, session, pair and trial columns always present.

    Examples
    --------
    >>> t = assemble([pd.DataFrame({"row_type": ["session"], "status": ["ok"]})])
    >>> t.shape[1] > 40, t.columns[0]
    (True, 'row_type')
    """
    kept = [p.dropna(axis=1, how="all") for p in pieces if len(p)]
    table = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    for c in (*ID_COLUMNS, *SESSION_COLUMNS, *PAIR_COLUMNS, *TRIAL_COLUMNS):
        if c not in table:
            table[c] = pd.Series([None] * len(table), dtype=object)
    return order_columns(table)


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
