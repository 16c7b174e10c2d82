"""What a running worker holds: settings, database, password hasher, and (set by the app) the session engine.

Route handlers receive it as the `services` dependency (see server/app.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher

from server.config import Settings
from server.database import Database


def password_hasher(fast: bool = False) -> PasswordHasher:
    """argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~40 ms per hash here, so 50
    delegates signing in at once cost ~1 s of CPU on 2 cores. argon2-cffi's own default (64 MiB, 3 passes,
    4 lanes) measured 450 ms per hash on these machines, 10x more for no gain against an offline attacker that
    matters here (the hashes never leave the database).

    `fast` (1 pass, 8 MiB) exists only for test suites that create hundreds of accounts; the tests choose it,
    production never does.
    """
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass
class Services:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    # server.engine.Engine; typed loosely here to keep this module free of import cycles.
    engine: Any = field(default=None)
