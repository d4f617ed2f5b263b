"""State files (keys, certificates, the demo's config and exports): 0600 from creation whatever the umask,
directories 0700, never written through a symlink planted where a file or directory should be."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.certs import CA_FILE, CERT_FILE, KEY_FILE, ensure_certificates, write_private
from emulator.core.state_files import ensure_private_dir
from emulator.serve import CLIENT_CERT_FILE, CONFIG_FILE, ServeOptions, serving
from errors import EmulatorError

SMALL = {"events": 20, "ccrs": 40}
UNTOUCHED = "the attacker's file, which must stay as it is\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside" / "target.txt"
    target.parent.mkdir()
    target.write_text(UNTOUCHED, encoding="utf-8")
    return target


@pytest.fixture(params=[0o000, 0o277], ids=["umask 000", "umask 277"])
def open_umask(request: pytest.FixtureRequest) -> Iterator[None]:
    """An open umask, or one taking the owner's write bit: what the emulator writes must not depend on it."""
    previous = os.umask(request.param)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize("name", [KEY_FILE, CERT_FILE, CA_FILE])
def test_a_symlink_planted_as_a_tls_file_is_refused_and_its_target_untouched(
    tmp_path: Path, outside: Path, name: str
) -> None:
    tls = tmp_path / "tls"
    tls.mkdir(mode=0o700)
    (tls / name).symlink_to(outside)

    with pytest.raises(EmulatorError, match="symbolic link"):
        ensure_certificates(tls)

    assert outside.read_text(encoding="utf-8") == UNTOUCHED
    assert (tls / name).is_symlink()


def test_a_symlink_planted_as_the_app_credential_is_refused(tmp_path: Path, outside: Path) -> None:
    planted = tmp_path / CLIENT_CERT_FILE
    planted.symlink_to(outside)

    with pytest.raises(EmulatorError, match="symbolic link"):
        write_private(planted, b"-----BEGIN PRIVATE KEY-----\n")

    assert outside.read_text(encoding="utf-8") == UNTOUCHED


def test_a_symlink_planted_as_a_directory_is_refused(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "tls").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(EmulatorError, match="symbolic link"):
        ensure_certificates(tmp_path / "tls")
    assert sorted(path.name for path in outside.parent.iterdir()) == ["target.txt"]


def test_a_key_is_never_written_into_an_older_file_with_looser_permissions(tmp_path: Path) -> None:
    """The old key file (0644, perhaps hard-linked elsewhere) is replaced, not rewritten in place."""
    key = tmp_path / CLIENT_CERT_FILE
    key.write_text("old, public\n", encoding="utf-8")
    key.chmod(0o644)
    os.link(key, tmp_path / "another-name-for-the-old-file")

    write_private(key, b"-----BEGIN PRIVATE KEY-----\nnew\n")

    assert (tmp_path / "another-name-for-the-old-file").read_text(encoding="utf-8") == "old, public\n"
    assert key.read_bytes() == b"-----BEGIN PRIVATE KEY-----\nnew\n" and mode(key) == 0o600


@pytest.mark.usefixtures("open_umask")
def test_tls_files_are_0600_and_their_directory_0700_whatever_the_umask(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path / "state" / "tls")
    assert mode(tmp_path / "state" / "tls") == 0o700
    assert [mode(path) for path in (paths.ca_file, paths.cert_file, paths.key_file)] == [0o600] * 3


def test_every_file_serve_writes_is_0600_and_every_directory_0700(tmp_path: Path) -> None:
    state = tmp_path / "state"
    previous = os.umask(0)
    try:
        with serving(ServeOptions(port=0, https=True, state_dir=state, **SMALL)):
            pass
    finally:
        os.umask(previous)
    written = sorted(state.rglob("*"))
    assert {path.relative_to(state).as_posix() for path in written} >= {
        CONFIG_FILE,
        CLIENT_CERT_FILE,
        "tls/ca.pem",
    }
    assert mode(state) == 0o700
    assert {path.relative_to(state).as_posix(): mode(path) for path in written} == {
        path.relative_to(state).as_posix(): 0o700 if path.is_dir() else 0o600 for path in written
    }


@pytest.mark.parametrize("planted", [CONFIG_FILE, CLIENT_CERT_FILE, "mapping.yaml", "forms"])
def test_serve_refuses_a_symlink_planted_in_its_state_directory(
    tmp_path: Path, outside: Path, planted: str
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / planted).symlink_to(outside if planted != "forms" else outside.parent)

    with (
        pytest.raises(EmulatorError, match="symbolic link"),
        serving(ServeOptions(port=0, state_dir=state, **SMALL)),
    ):
        pass

    assert outside.read_text(encoding="utf-8") == UNTOUCHED
    assert sorted(path.name for path in outside.parent.iterdir()) == ["target.txt"]


def test_serve_refuses_a_state_directory_that_is_a_symlink(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "state").symlink_to(outside.parent, target_is_directory=True)
    with (
        pytest.raises(EmulatorError, match="symbolic link"),
        serving(ServeOptions(port=0, state_dir=tmp_path / "state", **SMALL)),
    ):
        pass
    assert sorted(path.name for path in outside.parent.iterdir()) == ["target.txt"]


def test_a_directory_to_write_into_must_be_a_real_directory(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "linked").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(EmulatorError, match="symbolic link"):
        ensure_private_dir(tmp_path / "linked")
    with pytest.raises(EmulatorError, match="not a directory"):
        ensure_private_dir(outside)
