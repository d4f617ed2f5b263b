"""Mutation check of the redaction tests (run by hand): delete each pattern, see its test go red.

For each mutation, the tracked tree is copied to a temporary directory, one source line is changed there,
and the redaction tests run alone in that copy (a fresh process, cache off). A mutation the tests do not
notice ("SURVIVED") is a pattern without a test that can fail. Prints one line per mutation and exits 1
if any survived.

    .venv/bin/python bench/mutate_redaction.py            # all mutations
    .venv/bin/python bench/mutate_redaction.py --list     # what would be mutated
    .venv/bin/python bench/mutate_redaction.py token sig  # only mutations whose name contains a word
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The redaction tests of each source file (a mutation runs those of its file, alone).
TESTS = {
    "config/logs.py": ["tests/config/test_redaction_patterns.py", "tests/config/test_secrets.py"],
    "config/urls.py": ["tests/config/test_redaction_patterns.py", "tests/connectors/test_redaction.py"],
    "config/secrets.py": ["tests/config/test_redaction_patterns.py", "tests/config/test_secrets.py"],
    "connectors/redaction.py": ["tests/connectors/test_redaction.py"],
}


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str  # exact text, must occur once
    new: str


def credential_name_mutations() -> list[Mutation]:
    """Each name of config/urls.py's CREDENTIAL_QUERY_KEYS removed in turn."""
    text = (ROOT / "config/urls.py").read_text(encoding="utf-8")
    names = re.findall(r'^        "([a-z_-]+)",$', text, re.MULTILINE)
    return [Mutation(f"credential name {n}", "config/urls.py", f'        "{n}",\n', "") for n in names]


def secret_name_mutations() -> list[Mutation]:
    """Each key name and suffix of config/secrets.py's table removed in turn."""
    text = (ROOT / "config/secrets.py").read_text(encoding="utf-8")
    mutations = []
    for line in text.splitlines():
        if line.strip().startswith("(") and '"' in line and ("_" in line or "secret" in line):
            for name in re.findall(r'"([a-z_]+)"', line):
                changed = line.replace(f'"{name}", ', "").replace(f', "{name}"', "").replace(f'"{name}",', "")
                if changed != line:
                    mutations.append(Mutation(f"secret key name {name}", "config/secrets.py", line, changed))
    return mutations


PATTERNS = [
    # config/logs.py: redact()
    Mutation(
        "logs: given secret values",
        "config/logs.py",
        "        text = text.replace(value, MASK)\n",
        "        pass\n",
    ),
    Mutation(
        "logs: private key block",
        "config/logs.py",
        "    text = _PRIVATE_KEY.sub(",
        "    _ = _PRIVATE_KEY.sub(",
    ),
    Mutation(
        "logs: Authorization",
        "config/logs.py",
        "    text = _AUTHORIZATION.sub(",
        "    _ = _AUTHORIZATION.sub(",
    ),
    Mutation("logs: bearer", "config/logs.py", "    text = _BEARER.sub(", "    _ = _BEARER.sub("),
    Mutation(
        "logs: URL user part", "config/logs.py", "    text = _URL_USERINFO.sub(", "    _ = _URL_USERINFO.sub("
    ),
    Mutation(
        "logs: URL parameter",
        "config/logs.py",
        "    text = _URL_PARAMETER.sub(",
        "    _ = _URL_PARAMETER.sub(",
    ),
    Mutation("logs: JWT", "config/logs.py", "    text = _JWT.sub(MASK, text)\n", ""),
    Mutation(
        "logs: named parameter",
        "config/logs.py",
        '    return _PARAMETER.sub(lambda match: f"{match.group(1)}{MASK}", text)',
        "    return text",
    ),
    # config/logs.py: records, handlers, data
    Mutation(
        "logs: record message",
        "config/logs.py",
        "        record.msg = self.redact(message)",
        "        record.msg = message",
    ),
    Mutation(
        "logs: record exception",
        "config/logs.py",
        "            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))",
        "            record.exc_text = logging.Formatter().formatException(record.exc_info)",
    ),
    Mutation(
        "logs: factory redacts",
        "config/logs.py",
        "        redactor.redact_record(record)\n        return record",
        "        return record",
    ),
    Mutation(
        "logs: handler filter", "config/logs.py", "    handler.addFilter(RedactingFilter(redactor))\n", ""
    ),
    Mutation(
        "logs: for_settings",
        "config/logs.py",
        "        return cls(getattr(settings.secrets, item.name) for item in fields(settings.secrets))",
        "        return cls()",
    ),
    Mutation(
        "logs: redact_data keys",
        "config/logs.py",
        "            return {self.redact_data(key): self.redact_data(item)",
        "            return {key: self.redact_data(item)",
    ),
    Mutation(
        "logs: redact_data items",
        "config/logs.py",
        "            return [self.redact_data(item) for item in value]",
        "            return list(value)",
    ),
    # config/urls.py
    Mutation(
        "urls: redact_url user part",
        "config/urls.py",
        "        netloc = f\"{MASK}@{netloc.rsplit('@', 1)[1]}\"",
        "        pass",
    ),
    Mutation(
        "urls: redact_url parameter",
        "config/urls.py",
        '        return f"{name}={MASK}"',
        "        return pair",
    ),
    Mutation(
        "urls: redact_url fragment",
        "config/urls.py",
        '    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))',
        "    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))",
    ),
    Mutation(
        "urls: credential user part",
        "config/urls.py",
        '    if "@" in parts.netloc:\n        return',
        "    if False:\n        return",
    ),
    Mutation(
        "urls: credential fragment",
        "config/urls.py",
        '(("query", parts.query), ("fragment", parts.fragment))',
        '(("query", parts.query),)',
    ),
    # connectors/redaction.py
    Mutation(
        "connectors: given secrets",
        "connectors/redaction.py",
        "            text = text.replace(secret, MASK)",
        "            pass",
    ),
    Mutation("connectors: JWT", "connectors/redaction.py", "    text = _JWT.sub(MASK, text)\n", ""),
    Mutation(
        "connectors: bearer", "connectors/redaction.py", "    text = _BEARER.sub(", "    _ = _BEARER.sub("
    ),
    Mutation(
        "connectors: named",
        "connectors/redaction.py",
        '    return _NAMED.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}", text)',
        "    return text",
    ),
    Mutation(
        "connectors: one line",
        "connectors/redaction.py",
        '    text = " ".join(redact_text(text, *known_secrets).split())',
        "    text = redact_text(text, *known_secrets)",
    ),
    Mutation(
        "connectors: length cap",
        "connectors/redaction.py",
        "    if len(text) > MAX_SERVICE_MESSAGE_CHARS:",
        "    if False:",
    ),
    Mutation(
        "connectors: log filter",
        "connectors/redaction.py",
        "        record.msg, record.args = redact_text(message), None",
        "        record.msg, record.args = message, None",
    ),
    Mutation(
        "connectors: filter installed",
        "connectors/redaction.py",
        "            logger.addFilter(log_filter)\n",
        "",
    ),
]


def run(mutation: Mutation | None, tree: Path) -> bool:
    """True when the redaction tests pass in `tree` (with the mutation applied; all of them without one)."""
    tests = TESTS[mutation.path] if mutation is not None else sorted({t for ts in TESTS.values() for t in ts})
    if mutation is not None:
        target = tree / mutation.path
        text = target.read_text(encoding="utf-8")
        assert text.count(mutation.old) == 1, f"{mutation.name}: the text to mutate is not there once"
        target.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", *tests],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if mutation is not None:
        target.write_text(text, encoding="utf-8")
    return result.returncode == 0


def main(arguments: list[str]) -> int:
    mutations = [*PATTERNS, *credential_name_mutations(), *secret_name_mutations()]
    words = [word for word in arguments if not word.startswith("--")]
    if words:
        mutations = [m for m in mutations if any(word in m.name for word in words)]
    if "--list" in arguments:
        print("\n".join(m.name for m in mutations))
        return 0
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as temporary:
        tree = Path(temporary)
        for name in files.splitlines():
            if (ROOT / name).is_file():
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, tree / name)
        if not run(None, tree):
            print("the redaction tests fail with no mutation: fix them first")
            return 2
        survived = 0
        for mutation in mutations:
            caught = not run(mutation, tree)
            survived += not caught
            print(f"{'caught  ' if caught else 'SURVIVED'}  {mutation.name}", flush=True)
    print(f"{len(mutations) - survived} of {len(mutations)} mutations caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
