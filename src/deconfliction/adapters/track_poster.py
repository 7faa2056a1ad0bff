"""Posting positions to a server's ``/v1/tracks`` (``deconfliction replay`` and
``bridge``): batches under the client's id, transient failures retried.

A batch that fails on the network, or gets a 5xx, 408 or 429 answer, is sent again
under the same id (the server stores it once); after :data:`RETRY_DELAYS_S` the
poster gives up with :class:`ReplayError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from deconfliction.errors import DeconflictionError, Problem

RETRY_DELAYS_S: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)  # then give up (~15 s)


class ReplayError(DeconflictionError):
    """The server refused the replay as a whole (token, URL, unreachable)."""


@dataclass(frozen=True, slots=True)
class PostResult:
    """What the server did with one batch."""

    accepted: int
    rejected: tuple[Problem, ...] = ()


class HttpPoster:
    """Posts batches to ``URL/v1/tracks``, retrying transient failures."""

    def __init__(
        self,
        url: str,
        token: str,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        hints: Mapping[int, str] | None = None,
    ) -> None:
        """Args:
        url: the server's base URL.
        token: the bearer token.
        client: an ``httpx.Client`` to use (one is made and closed otherwise).
        sleep: how to wait between retries.
        hints: text added to the error of a refusal with that HTTP status (the
            command line names its own options there).
        """
        import httpx

        self.base = url.rstrip("/")
        self.url = self.base + "/v1/tracks"
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=30.0)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.sleep = sleep
        self.retries = 0
        self.hints = dict(hints or {})

    def close(self) -> None:
        """Close the connection pool (when this poster made it)."""
        if self._own_client:
            self.client.close()

    def __enter__(self) -> HttpPoster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def own_party(self) -> str:
        """The party of the token (``GET /v1/parties/me``): a party posts its own
        aircraft only.

        Raises:
            ReplayError: when the server refuses the token or cannot be reached.
        """
        response = self._send("GET", self.base + "/v1/parties/me", "asking who we are")
        return str(response.json()["party_id"])

    def __call__(self, batch_id: str, positions: list[dict[str, Any]]) -> PostResult:
        """Post one batch; raises :class:`ReplayError` when retrying cannot help."""
        body = {"batch_id": batch_id, "positions": positions}
        response = self._send("POST", self.url, f"batch {batch_id}", json=body)
        if response.status_code == 422:
            return PostResult(0, _problems(response, batch_id))
        data = response.json()
        return PostResult(
            int(data["accepted"]),
            tuple(
                Problem(
                    batch_id, r.get("row"), r.get("field", ""), r.get("message", "")
                )
                for r in data.get("rejected", [])
            ),
        )

    def _send(self, method: str, url: str, what: str, **kw: Any) -> Any:
        """One request, sent again after a network failure, a 5xx, 408 or 429; a
        2xx or 422 answer is returned.

        Raises:
            ReplayError: for any other answer, or when retrying did not help.
        """
        import httpx

        last = ""
        for delay in (*RETRY_DELAYS_S, None):
            try:
                response = self.client.request(method, url, headers=self.headers, **kw)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if 200 <= status < 300 or status == 422:
                    return response
                if status < 500 and status not in (408, 429):
                    hint = self.hints.get(status, "")
                    raise ReplayError(f"{url}: {status} {_detail(response)}{hint}")
                last = f"{status} {_detail(response)}"
            if delay is None:
                break
            self.retries += 1
            self.sleep(delay)
        raise ReplayError(f"{url}: {what} failed after retries: {last}")


def _detail(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return str(response.text)[:200]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or data)[:200]
    return str(data)[:200]


def _problems(response: Any, batch_id: str) -> tuple[Problem, ...]:
    try:
        data = response.json()
    except ValueError:
        return (Problem(batch_id, None, "", response.text[:200]),)
    items = data.get("problems") if isinstance(data, dict) else None
    if not items:
        return (Problem(batch_id, None, "", _detail(response)),)
    return tuple(
        Problem(batch_id, p.get("line"), p.get("field", ""), p.get("message", ""))
        for p in items
    )
