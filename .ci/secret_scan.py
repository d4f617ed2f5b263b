"""Secret scan of every tracked file (S2), run by `make test`: a committed secret fails the build.

detect-secrets scans the files `git ls-files` lists with the plugins and filters recorded in the
baseline. The build fails when a finding is not in the baseline, or when a baseline entry is not
audited as a false positive (`is_secret: false`; the reason for each is in docs/security.md). Findings
are matched by file, type and hash, not line, so moving a line needs no new baseline; nothing is
rewritten here. Output names the file, line and type of a finding, never its value.

    python .ci/secret_scan.py [--root DIR] [--baseline FILE]

To audit a new false positive: `.venv/bin/detect-secrets scan $(git ls-files) --baseline
.secrets.baseline`, then `.venv/bin/detect-secrets audit .secrets.baseline`, and give the reason in
docs/security.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from detect_secrets import SecretsCollection
from detect_secrets.core import baseline as baselines


def tracked_files(root: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, text=True, check=True
    ).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--baseline", type=Path, default=None, help="default: ROOT/.secrets.baseline")
    options = parser.parse_args(arguments)
    root: Path = options.root.resolve()
    baseline_path: Path = options.baseline or root / ".secrets.baseline"
    files = tracked_files(root)
    baseline_name = os.path.relpath(baseline_path.resolve(), root)
    os.chdir(root)  # findings carry the path they were scanned by: relative, as the baseline records them
    # Loading the baseline configures detect-secrets' plugins and filters from it, and leaves the baseline
    # file itself (named as it is scanned) out of the scan.
    known = baselines.load(baselines.load_from_file(baseline_name), baseline_name)
    found = SecretsCollection()
    found.scan_files(*files)
    new = found - known
    unaudited = [secret for _name, secret in known if secret.is_secret is not False]
    for filename, secret in new:
        print(f"SECRET? {filename}:{secret.line_number}: {secret.type} (not in {baseline_path.name})")
    for secret in unaudited:
        verdict = "audited as a real secret" if secret.is_secret else "not audited"
        print(
            f"SECRET? {secret.filename}:{secret.line_number}: {secret.type} ({verdict} in {baseline_path.name})"
        )
    if new or unaudited:
        print(
            "Secret scan failed: remove the secret (and rotate it if it was real), or audit a false positive "
            "(see .ci/secret_scan.py and docs/security.md)."
        )
        return 1
    print(f"Secret scan: {len(files)} tracked files, no secret outside the audited baseline.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
