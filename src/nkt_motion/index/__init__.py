"""The client/session index and each client's history across visits.

An SQLite file (standard library :mod:`sqlite3`) of clients (pseudonymous
ids), sessions, tests and verdicts, filled by ``nkt-motion analyze``, ``batch``
and ``retest`` and read by ``nkt-motion history``. Its schema is versioned
(:data:`SCHEMA_VERSION`, steps in :data:`MIGRATIONS`): opening an older file
migrates it, a newer one is refused. Many processes may write at once.

Examples
--------
>>> from nkt_motion.index import open_index
>>> with open_index(":memory:") as idx:
...     idx.clients()
[]
"""

from nkt_motion.index._paths import content_hash, default_index_path, recorded_at_of
from nkt_motion.index._rows import HISTORY_COLUMNS, IDENTIFYING_COLUMNS
from nkt_motion.index._schema import MIGRATIONS, SCHEMA_VERSION, Migration, migrate
from nkt_motion.index.store import ORIGINS, Origin, SessionIndex, open_index

__all__ = [
    "HISTORY_COLUMNS",
    "IDENTIFYING_COLUMNS",
    "MIGRATIONS",
    "ORIGINS",
    "SCHEMA_VERSION",
    "Migration",
    "Origin",
    "SessionIndex",
    "content_hash",
    "default_index_path",
    "migrate",
    "open_index",
    "recorded_at_of",
]
