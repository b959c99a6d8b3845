"""The lock files pin every package with hashes and agree with the human-edited inputs.

A pin changed in requirements*.txt without `make lock` fails here (the lock would install the old
version), and so does a lock entry without a hash (pip --require-hashes would refuse it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonical(match[1])] = match[2]
    return found


def lock_entries(path: Path) -> dict[str, str]:
    """Each locked package with its entry's text (the pin line and its --hash lines)."""
    text = path.read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    return {canonical(PIN.match(b)[1]): b for b in blocks if PIN.match(b)}


LOCKS = {
    "requirements.txt": "requirements.lock",
    "requirements-dev.txt": "requirements-dev.lock",
}


@pytest.mark.parametrize(("source", "lock"), LOCKS.items())
def test_every_input_pin_is_locked_at_its_version(source, lock):
    wanted = pins(ROOT / source)
    if source == "requirements-dev.txt":
        wanted |= pins(ROOT / "requirements.txt")  # it includes the runtime list (-r)
    locked = pins(ROOT / lock)
    stale = {name: (version, locked.get(name)) for name, version in wanted.items()}
    stale = {name: pair for name, pair in stale.items() if pair[0] != pair[1]}
    assert stale == {}, f"run `make lock`: (input, locked) differ for {stale}"


@pytest.mark.parametrize("lock", LOCKS.values())
def test_every_locked_package_has_a_hash(lock):
    entries = lock_entries(ROOT / lock)
    assert len(entries) > len(pins(ROOT / "requirements.txt"))  # transitive packages too
    assert [name for name, entry in entries.items() if "--hash=sha256:" not in entry] == []


def test_the_dev_lock_installs_the_runtime_lock_unchanged():
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    assert {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v} == {}


def test_test_only_packages_stay_out_of_the_runtime_lock():
    runtime = pins(ROOT / "requirements.lock")
    assert {"lifelines", "pytest", "hypothesis", "playwright"}.isdisjoint(runtime)
