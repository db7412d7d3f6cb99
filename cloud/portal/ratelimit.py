"""Login attempts, limited: guessing a password is slow work, whoever does it.

Pure bookkeeping, in memory (each API process keeps its own): at most
`per_login` failed attempts on one login and `per_address` from one client
address within `window_s`; past that, attempts are refused without checking
the password until the window has moved on. A success clears the login's
count (not the address's: one right password does not license guessing
others).
"""

from __future__ import annotations

import threading
from collections import deque


class LoginLimiter:
    """Failed sign-ins per login and per client address, in a sliding window."""

    def __init__(
        self,
        *,
        per_login: int = 5,
        per_address: int = 20,
        window_s: float = 900.0,
        max_keys: int = 100_000,
    ) -> None:
        self.per_login = per_login
        self.per_address = per_address
        self.window_s = window_s
        self._max_keys = max_keys
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allowed(self, login: str, address: str, now: float) -> bool:
        """True if an attempt on `login` from `address` may be checked now."""
        with self._lock:
            return (
                self._count(f"l:{login}", now) < self.per_login
                and self._count(f"a:{address}", now) < self.per_address
            )

    def failed(self, login: str, address: str, now: float) -> None:
        """Count a failed attempt."""
        with self._lock:
            if len(self._fails) >= self._max_keys:
                self._forget_old(now)
            for key in (f"l:{login}", f"a:{address}"):
                self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, login: str) -> None:
        """Clear the login's failures."""
        with self._lock:
            self._fails.pop(f"l:{login}", None)

    def _count(self, key: str, now: float) -> int:
        times = self._fails.get(key)
        if times is None:
            return 0
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._fails[key]
            return 0
        return len(times)

    def _forget_old(self, now: float) -> None:
        for key in list(self._fails):
            self._count(key, now)
        if len(self._fails) >= self._max_keys:  # a flood of distinct keys: start over
            self._fails.clear()
