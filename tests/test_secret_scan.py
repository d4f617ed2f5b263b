"""S2: the secret scan `make test` runs (.ci/secret_scan.py) fails on a committed secret, in a temporary git
repository with the project's scanner settings; and every audited entry of the real baseline has a reason.

The planted secrets are assembled at run time, so this file does not itself hold one for the scan to find.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.prerequisites import ROOT, missing

SCAN = ROOT / ".ci" / "secret_scan.py"
BASELINE = ROOT / ".secrets.baseline"


def _jwt() -> str:
    parts = ({"alg": "RS256", "typ": "JWT"}, {"sub": "1234567890", "aud": "api://cetk"})
    encoded = (base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=") for part in parts)
    return ".".join([*encoded, "c2lnbmF0dXJlLXZhbHVlLWhlcmU"])


AWS_KEY = "AKIA" + "Q3EGRTZ7JXNDOWPL"
PRIVATE_KEY = (
    "-----BEGIN "
    + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0\n-----END RSA PRIVATE KEY-----\n"
)
CLIENT_SECRET = "q8Zr~Vt3Lx9Nw2Kd5Pm7" + "Hs4Bg6Fj1Yc0Ta"
PLANTED = [
    ("deploy/aws.env", f"aws_access_key_id = {AWS_KEY}\n", AWS_KEY, "AWS Access Key"),
    ("certs/app.pem", PRIVATE_KEY, "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn", "Private Key"),
    ("notes/token.txt", f"token: {_jwt()}\n", _jwt(), "JSON Web Token"),
    ("cetk.yaml", f"auth:\n  client_secret: {CLIENT_SECRET}\n", CLIENT_SECRET, "Secret Keyword"),
]


def git(repo: Path, *arguments: str) -> None:
    environ = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    environ.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True, env=environ)


def scan(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCAN), "--root", str(repo)], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one clean file and the project's baseline settings (and no findings)."""
    if shutil.which("git") is None:
        missing("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    settings = json.loads(BASELINE.read_text(encoding="utf-8"))
    settings["results"] = {}
    (repo / ".secrets.baseline").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    (repo / "README.md").write_text("A clean repository: tenant id, client id and a thumbprint only.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "clean")
    return repo


def test_a_clean_repository_passes(repo: Path) -> None:
    result = scan(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 tracked files, no secret" in result.stdout


@pytest.mark.parametrize(("name", "text", "value", "kind"), PLANTED, ids=[item[3] for item in PLANTED])
def test_a_committed_secret_fails_the_scan_without_being_printed(
    repo: Path, name: str, text: str, value: str, kind: str
) -> None:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    assert scan(repo).returncode == 0  # not tracked yet: the scan reads what git tracks
    git(repo, "add", name)
    result = scan(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"SECRET? {name}:" in result.stdout and kind in result.stdout
    assert value not in result.stdout + result.stderr


def test_only_an_entry_audited_false_lets_a_finding_pass(repo: Path) -> None:
    name, text, _value, _kind = PLANTED[0]
    (repo / "deploy").mkdir()
    (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", name)
    listed = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", name, "--baseline", ".secrets.baseline"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    baseline = json.loads((repo / ".secrets.baseline").read_text(encoding="utf-8"))
    assert [item["type"] for item in baseline["results"][name]] == ["AWS Access Key"]
    for verdict, expected in ((None, 1), (True, 1), (False, 0)):
        for item in baseline["results"][name]:
            item.pop("is_secret", None)
            if verdict is not None:
                item["is_secret"] = verdict
        (repo / ".secrets.baseline").write_text(json.dumps(baseline, indent=2), encoding="utf-8")
        result = scan(repo)
        assert result.returncode == expected, (verdict, result.stdout)


def test_every_audited_finding_of_the_project_has_a_reason_in_the_security_doc() -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert baseline["results"], "the baseline lists the audited fixtures"
    for filename, items in baseline["results"].items():
        assert all(item.get("is_secret") is False for item in items), filename
        assert f"`{filename}`" in doc, f"docs/security.md gives no reason for the findings in {filename}"
