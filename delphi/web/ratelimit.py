"""A small in-process sliding-window limiter for login and panellist-link endpoints.

Per process: behind a load balancer each web process counts on its own, which still bounds guessing to
``limit × processes`` per window; account lockout (in the database) bounds it across processes.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from litestar.exceptions import TooManyRequestsException


@dataclass
class SlidingWindowLimiter:
    limit: int
    window_s: float
    _hits: dict[str, deque[float]] = field(default_factory=dict)

    def hit(self, key: str, now: float | None = None) -> None:
        """Count one attempt for ``key``; raise 429 with ``Retry-After`` (seconds) past the limit."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = max(1, int(hits[0] + self.window_s - now) + 1)
            raise TooManyRequestsException(
                detail=f"Too many attempts from here. Wait {retry} seconds, then try again.",
                headers={"Retry-After": str(retry)},
            )
        hits.append(now)
        if len(self._hits) > 50_000:  # bound memory under a spray of keys
            for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
                del self._hits[stale]


def client_key(request) -> str:  # type: ignore[no-untyped-def]
    client = request.client
    return client.host if client else "unknown"
