"""A party's own check of the server's record: fetch the log and keys over the API,
compare them with the checkpoints and pinned keys it kept (``hotline.checkpoints``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from deconfliction.errors import InputError, Problem
from deconfliction.hotline import checkpoints as cp
from deconfliction.hotline.record import ChainReport, public_key_from_text
from deconfliction.timetext import rfc3339_ms

MAX_PAGES: Final = 100_000  # a server that never stops sending is refused
HTTP_TIMEOUT_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class Served:
    """What the server shows the party."""

    party: str
    keys: dict[str, str]  # signer -> ed25519:...
    entries: list[cp.ServedEntry]
    head: tuple[int, str] | None


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of checking what is served against what was kept."""

    served: Served
    key_changes: list[cp.KeyChange]
    new_signers: list[str]
    chain: ChainReport

    @property
    def ok(self) -> bool:
        """No key changed and the chain verified."""
        return not self.key_changes and self.chain.ok


def _server_problem(url: str, message: str) -> InputError:
    return InputError([Problem("server", None, url, message)])


def _get(client: Any, url: str, path: str, **params: Any) -> Any:
    import httpx

    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise _server_problem(url, f"{type(exc).__name__}: {exc}") from None
    if response.status_code in (401, 403):
        raise _server_problem(url, f"{response.status_code}: check --token")
    if response.status_code != 200:
        raise _server_problem(url, f"{path} answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise _server_problem(url, f"{path} did not answer JSON") from None


def _head(data: Any, url: str) -> tuple[int, str] | None:
    head = data.get("head") if isinstance(data, dict) else None
    if head is None:
        return None
    if not isinstance(head, dict):
        raise _server_problem(url, "the log's head is malformed")
    seq, digest = head.get("seq"), head.get("hash")
    if isinstance(seq, bool) or not isinstance(seq, int) or not isinstance(digest, str):
        raise _server_problem(url, "the log's head is malformed")
    return seq, digest


def fetch(url: str, token: str) -> Served:
    """The party, the keys and the whole log as the server shows them to ``token``.

    Raises:
        InputError: when the server cannot be reached, refuses the token, or
            answers something that is not the record.
    """
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    base = url.rstrip("/")
    with httpx.Client(base_url=base, headers=headers, timeout=HTTP_TIMEOUT_S) as client:
        me = _get(client, base, "/v1/parties/me")
        raw_keys = _get(client, base, "/v1/parties/keys")
        if not isinstance(raw_keys, list):
            raise _server_problem(base, "the keys are not a list")
        keys = {
            str(k.get("signer")): str(k.get("public_key"))
            for k in raw_keys
            if isinstance(k, dict)
        }
        entries: list[cp.ServedEntry] = []
        head: tuple[int, str] | None = None
        for _ in range(MAX_PAGES):
            after = entries[-1].seq if entries else 0
            page = _get(client, base, "/v1/hotline/log", after=after)
            head = _head(page, base)
            raw = page.get("entries") if isinstance(page, dict) else None
            if not isinstance(raw, list):
                raise _server_problem(base, "the log has no entries list")
            entries += [cp.served_entry(e, len(entries) + i) for i, e in enumerate(raw)]
            if not raw and (head is None or head[0] <= after):
                break
            if raw and entries[-1].seq <= after:
                raise _server_problem(base, "the log went backwards while paging")
        else:
            raise _server_problem(base, f"more than {MAX_PAGES} pages")
    party = me.get("party_id") if isinstance(me, dict) else None
    if not isinstance(party, str):
        raise _server_problem(base, "/v1/parties/me did not name the party")
    return Served(party, keys, entries, head)


def check(served: Served, kept: cp.CheckpointFile | None) -> Check:
    """Compare what is served with what was kept (pinned keys win over served ones).

    Raises:
        InputError: for a key that is not an ``ed25519:`` key.
    """
    pinned = {} if kept is None else {s: k.public_key for s, k in kept.keys.items()}
    changes = cp.key_changes(pinned, served.keys)
    new = sorted(set(served.keys) - set(pinned))
    keys = {s: public_key_from_text(served.keys[s]) for s in new}
    keys |= {s: public_key_from_text(k) for s, k in pinned.items()}
    report = cp.verify_served_log(
        served.entries,
        served.head,
        keys,
        {} if kept is None else kept.by_seq(),
    )
    return Check(served, changes, new, report)


def read_kept(path: Path, url: str, party: str) -> cp.CheckpointFile:
    """The checkpoint file at ``path``, checked to be this server's and party's.

    Raises:
        InputError: for a file of another format, server or party (or empty,
            binary, not UTF-8).
        FileNotFoundError: when there is none.
    """
    from deconfliction.adapters.input_files import read_text

    kept = cp.CheckpointFile.from_json(read_text(path), str(path))
    if kept.party and kept.party != party:
        raise InputError(
            [
                Problem(
                    str(path),
                    None,
                    "party",
                    f"kept for {kept.party!r}; the token is {party!r}'s",
                )
            ]
        )
    if kept.server and kept.server.rstrip("/") != url.rstrip("/"):
        raise InputError(
            [Problem(str(path), None, "server", f"kept for {kept.server}, not {url}")]
        )
    return kept


def kept_after(
    outcome: Check, kept: cp.CheckpointFile | None, url: str
) -> cp.CheckpointFile:
    """The checkpoint file with the head kept and new signers' keys pinned."""
    now = rfc3339_ms(time.time())
    base = kept or cp.CheckpointFile(server=url.rstrip("/"), party=outcome.served.party)
    keys = dict(base.keys)
    for signer in outcome.new_signers:
        public = outcome.served.keys[signer]
        keys[signer] = cp.PinnedKey(
            public, cp.key_fingerprint(public_key_from_text(public)), now
        )
    points = base.checkpoints
    head = outcome.served.head
    if head is not None and (not points or points[-1].seq != head[0]):
        points = (*points, cp.Checkpoint(head[0], head[1], now))
    return cp.CheckpointFile(base.server, base.party, keys, tuple(points))


def write_kept(path: Path, kept: cp.CheckpointFile) -> None:
    """Write the file whole or not at all (a new file renamed over the old)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(kept.as_json(), encoding="utf-8")
    os.replace(temporary, path)
