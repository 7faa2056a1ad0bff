"""Backups: the database and the hotline's signing keys in one archive, and back.

The archive is a gzip'd tar file (mode 0600: it holds the private keys) with:

* ``manifest.json``: format and version, when and from which backend, the schema
  revision, and the size and SHA-256 of every other member;
* ``database.sqlite`` (a SQLite database in one file) or ``database.pgdump``
  (``pg_dump --format=custom``);
* ``keys/<signer>.pem``: every key file of the keys directory.

A backup holds everything committed before it began (one snapshot of the store),
taken while the server runs. A restore checks every member against the manifest
before it touches anything, and refuses to overwrite a database or keys that are
already there unless told to replace them (with the server stopped).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import func, select

from deconfliction.errors import InputError, Problem
from deconfliction.store import backup as store_backup
from deconfliction.store import engine as store_engine
from deconfliction.store.tables import ingest_batches, positions

FORMAT: str = "deconfliction-backup"
VERSION: int = 1
MANIFEST: str = "manifest.json"
KEYS_PREFIX: str = "keys/"
GZIP_LEVEL: int = 1  # fast; positions still compress about 3 to 1
HASH_CHUNK_BYTES: int = 1 << 20
DATABASE_MEMBER: dict[str, str] = {
    "sqlite": "database.sqlite",
    "postgresql": "database.pgdump",
}


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What a backup or a restore held."""

    backend: str
    revision: str | None
    created_t_s: float
    database_bytes: int
    key_files: int
    batches: int
    positions: int


def _problem(field: str, message: str, source: str = "command line") -> InputError:
    return InputError([Problem(source, None, field, message)])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _counts(database_url: str) -> tuple[str | None, int, int]:
    engine = store_engine.make_engine(database_url)
    try:
        revision = store_engine.current_revision(engine)
        with engine.connect() as conn:
            batches = conn.execute(select(func.count()).select_from(ingest_batches))
            n_batches = int(batches.scalar_one())
            rows = conn.execute(select(func.count()).select_from(positions))
            n_positions = int(rows.scalar_one())
    finally:
        engine.dispose()
    return revision, n_batches, n_positions


def _key_files(keys_dir: Path) -> list[Path]:
    if not keys_dir.is_dir():
        return []
    return sorted(p for p in keys_dir.iterdir() if p.is_file() and p.suffix == ".pem")


def make_backup(
    database_url: str, keys_dir: Path, out: Path, now_t_s: float
) -> BackupSummary:
    """Write the archive ``out`` (which must not exist yet).

    Raises:
        InputError: ``out`` exists, the SQLite file does not, or pg_dump is
            missing or failed.
    """
    if out.exists():
        raise _problem("--out", f"{out} exists; choose a new file")
    engine = store_engine.make_engine(database_url)
    backend = engine.dialect.name
    sqlite_path = store_engine.sqlite_file(engine)
    engine.dispose()
    if backend == "sqlite" and (sqlite_path is None or not Path(sqlite_path).is_file()):
        raise _problem("--database", f"no SQLite database at {sqlite_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as work:
        member = DATABASE_MEMBER[backend]
        copy = Path(work) / member
        if sqlite_path is not None:
            store_backup.copy_sqlite(Path(sqlite_path), copy)
            revision, batches, n_positions = _counts(f"sqlite:///{copy}")
        else:
            # Counted before the dump: the dump holds at least these.
            revision, batches, n_positions = _counts(database_url)
            store_backup.pg_dump(database_url, copy)
        keys = _key_files(keys_dir)
        files = {member: copy, **{KEYS_PREFIX + k.name: k for k in keys}}
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_t_s": now_t_s,
            "backend": backend,
            "schema_revision": revision,
            "batches": batches,
            "positions": n_positions,
            "files": {
                name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
                for name, path in files.items()
            },
        }
        staged = Path(work) / "archive"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=GZIP_LEVEL) as tar,
        ):
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            for name, path in files.items():
                tar.add(path, arcname=name, recursive=False)
        os.replace(staged, out)  # a partial archive never has the final name
    return BackupSummary(
        backend=backend,
        revision=revision,
        created_t_s=now_t_s,
        database_bytes=copy_bytes(manifest, member),
        key_files=len(keys),
        batches=batches,
        positions=n_positions,
    )


def copy_bytes(manifest: dict[str, Any], member: str) -> int:
    """The size of ``member`` as the manifest records it."""
    return int(manifest["files"][member]["bytes"])


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


@contextmanager
def _opened(archive: Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(archive, mode="r:gz")  # noqa: SIM115 - closed below
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _problem("", f"not a backup archive: {exc}", str(archive)) from None
    with tar:
        yield tar


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    source = str(archive)
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        manifest = json.load(handle) if handle is not None else None
    except (KeyError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _problem(MANIFEST, "not a Deconfliction backup", source)
    if manifest.get("version") != VERSION:
        raise _problem(
            f"{MANIFEST}: version",
            f"version {manifest.get('version')!r}; this program reads {VERSION}",
            source,
        )
    if manifest.get("backend") not in DATABASE_MEMBER:
        raise _problem(f"{MANIFEST}: backend", "unknown backend", source)
    return manifest


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return False
    return name in DATABASE_MEMBER.values() or (
        name.startswith(KEYS_PREFIX) and len(path.parts) == 2
    )


def _extract_checked(
    tar: tarfile.TarFile, manifest: dict[str, Any], into: Path, archive: Path
) -> dict[str, Path]:
    """Every member the manifest lists, checked, into ``into``; by name."""
    source = str(archive)
    files: dict[str, Any] = manifest.get("files") or {}
    found: dict[str, Path] = {}
    for name, expected in files.items():
        if not _safe_name(name):
            raise _problem(name, "a member outside the backup's layout", source)
        try:
            member = tar.getmember(name)
        except KeyError:
            raise _problem(name, "missing from the archive", source) from None
        handle = tar.extractfile(member) if member.isfile() else None
        if handle is None:
            raise _problem(name, "not a regular file", source)
        target = into / name.replace("/", "__")
        digest = hashlib.sha256()
        with target.open("wb") as out:
            while chunk := _read(handle, name, source):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected.get("sha256"):
            raise _problem(name, "its SHA-256 does not match the manifest", source)
        found[name] = target
    return found


def _read(handle: IO[bytes], name: str, source: str) -> bytes:
    try:
        return handle.read(HASH_CHUNK_BYTES)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _problem(name, f"the archive is damaged: {exc}", source) from None


def restore_backup(
    archive: Path, database_url: str, keys_dir: Path, replace: bool
) -> BackupSummary:
    """Restore ``archive`` into ``database_url`` and ``keys_dir``.

    Raises:
        InputError: not a valid archive (a member missing, changed or out of
            place), a backend other than the archive's, a database or key files
            already there without ``replace``, or pg_restore missing or failed.
    """
    engine = store_engine.make_engine(database_url)
    backend = engine.dialect.name
    sqlite_path = store_engine.sqlite_file(engine)
    try:
        occupied = (
            Path(sqlite_path).exists()
            if sqlite_path is not None
            else store_backup.has_tables(engine)
        )
    finally:
        engine.dispose()
    with _opened(archive) as tar:
        manifest = _read_manifest(tar, archive)
        if manifest["backend"] != backend:
            raise _problem(
                "--database",
                f"the backup is of a {manifest['backend']} database; this is {backend}",
            )
        if occupied and not replace:
            raise _problem(
                "--database",
                "the database already holds data; stop the server and add "
                "--replace to overwrite it",
            )
        existing_keys = _key_files(keys_dir)
        if existing_keys and not replace:
            raise _problem(
                "--keys-dir",
                f"{keys_dir} already holds key files; add --replace to overwrite",
            )
        scratch = Path(sqlite_path).parent if sqlite_path is not None else None
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch, prefix=".restore-") as work:
            found = _extract_checked(tar, manifest, Path(work), archive)
            database = found.get(DATABASE_MEMBER[backend])
            if database is None:
                raise _problem("files", "no database in the backup", str(archive))
            if sqlite_path is not None:
                store_backup.install_sqlite(database, Path(sqlite_path))
            else:
                store_backup.pg_restore(database_url, database, replace)
            keys = {n: p for n, p in found.items() if n.startswith(KEYS_PREFIX)}
            _install_keys(keys, keys_dir)
    revision, batches, n_positions = _counts(database_url)
    return BackupSummary(
        backend=backend,
        revision=revision,
        created_t_s=float(manifest["created_t_s"]),
        database_bytes=copy_bytes(manifest, DATABASE_MEMBER[backend]),
        key_files=len(keys),
        batches=batches,
        positions=n_positions,
    )


def _install_keys(keys: dict[str, Path], keys_dir: Path) -> None:
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    for name, path in keys.items():
        target = keys_dir / name.removeprefix(KEYS_PREFIX)
        staged = target.with_name(target.name + ".restoring")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(path.read_bytes())
        os.replace(staged, target)
