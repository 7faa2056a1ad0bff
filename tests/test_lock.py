"""The lock installs on a fresh machine whatever is released upstream after it.

scripts/setup installs requirements.lock with ``--no-deps``: pip resolves nothing, so
the lock must be complete (every distribution the package and its extras need, each
pinned with ``==`` and hash-checked) and consistent (every installed distribution's
requirements met by another pinned one). CI proves the install itself from an empty
venv and an empty pip cache each run (.ci/run).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ \\;]+)")


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if match := PIN.match(line):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_every_requirement_is_pinned_with_hashes() -> None:
    text = LOCK.read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    requirement_entries = [e for e in entries if e.strip() and not e.startswith("#")]
    assert requirement_entries
    for entry in requirement_entries:
        first = entry.splitlines()[0]
        assert PIN.match(first), f"not pinned with ==: {first}"
        assert "--hash=sha256:" in entry, f"no hash: {first}"


def test_setup_installs_the_lock_without_resolving() -> None:
    setup = (ROOT / "scripts" / "setup").read_text()
    assert "--no-deps" in setup
    assert "--require-hashes" in setup
    assert "requirements-build.txt" in setup


def test_the_lock_is_complete_for_everything_it_pins() -> None:
    """Each pinned distribution's own requirements (with the extras they ask for) are
    pinned too, at versions that satisfy them: what pip would otherwise resolve."""
    pins = _pins()
    env = default_environment()
    wanted_extras: dict[str, set[str]] = {name: {""} for name in pins}
    project = metadata.distribution("deconfliction")
    for text in project.requires or []:
        req = Requirement(text)
        wanted_extras.setdefault(canonicalize_name(req.name), {""}).update(req.extras)
    missing: list[str] = []
    checked: set[tuple[str, str]] = set()
    queue = [
        (name, extra) for name, extras in wanted_extras.items() for extra in extras
    ]
    while queue:
        name, extra = queue.pop()
        if (name, extra) in checked or name not in pins:
            continue
        checked.add((name, extra))
        for text in metadata.distribution(name).requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(
                {**env, "extra": extra}
            ):
                continue
            dep = canonicalize_name(req.name)
            if dep not in pins:
                missing.append(f"{name}[{extra}] needs {text}")
                continue
            if not req.specifier.contains(pins[dep], prereleases=True):
                missing.append(f"{name} needs {text}, lock has {pins[dep]}")
            queue.extend((dep, e) for e in {"", *req.extras})
    assert not missing, missing


def test_what_is_installed_is_what_the_lock_pins() -> None:
    pins = _pins()
    for name, version in pins.items():
        assert metadata.version(name) == version, name
