"""Start-up cost of `cetk` processes: the CPU time of a fresh process for `import cli`, `cetk --help`,
`cetk status --help`, `cetk migrate forms --help`, `cetk status` (no state yet), `cetk schema show ccr`,
and a real `cetk migrate forms --dry-run` of a 4-row CSV export (what the command pays before and beside
its work); and the heavy libraries each leaves in `sys.modules`.

Run by hand: `.venv/bin/python -m bench.bench_startup [--repeat K] [--compare REV]`. With `--compare main`
it exports REV's tree (git archive) and runs each command with REV's packages first on PYTHONPATH, then
with this checkout's, alternating which side goes first in each round; it quotes medians per side and the
median per-round ratio. Each figure is the child's user + system CPU (`resource.getrusage` of children), so
machine load moves it much less than wall time; wall time is printed too. Record the figures in
docs/performance.md (## Start-up (lazy imports)).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "pandas",
    "pyarrow",
    "numpy",
    "matplotlib",
    "office365",
    "msal",
    "requests",
    "cryptography",
    "fastexcel",
)
# Run as the console script does (`cetk = "cli:main"`), then list the heavy libraries left loaded.
PROBE = (
    "import atexit, json, os, sys\n"
    "def _loaded():\n"
    f"    names = [name for name in {HEAVY!r} if name in sys.modules]\n"
    "    with open(os.environ['CETK_BENCH_MODULES'], 'w') as out: json.dump(names, out)\n"
    "atexit.register(_loaded)\n"
    "sys.argv[0] = 'cetk'\n"
    "if sys.argv[1:] == ['IMPORT-ONLY']:\n"
    "    import cli\n"
    "else:\n"
    "    from cli import main\n"
    "    main()\n"
)
KEY = "c" * 40  # a fake pseudonymisation key, long enough for privacy.require_key
CSV = (
    "ID,Start time,Completion time,Email,Name,Date of contact,Setting\r\n"
    "1,2024-05-01 09:00:00,2024-05-01 09:05:00,pc.one@force.police.uk,PC One,01/05/2024,Patrol\r\n"
    "2,2024-05-02 09:00:00,2024-05-02 09:05:00,pc.one@force.police.uk,PC One,02/05/2024,Door knock\r\n"
    "3,2024-05-03 09:00:00,2024-05-03 09:05:00,anonymous,,03/05/2024,Patrol\r\n"
    "4,2024-05-04 09:00:00,2024-05-04 09:05:00,pc.two@force.police.uk,PC Two,04/05/2024,Patrol\r\n"
)
COMMANDS: dict[str, list[str]] = {
    "import cli": ["IMPORT-ONLY"],
    "cetk --help": ["--help"],
    "cetk status --help": ["status", "--help"],
    "cetk migrate forms --help": ["migrate", "forms", "--help"],
    "cetk status": ["status"],
    "cetk schema show ccr": ["schema", "show", "ccr"],
    "cetk migrate forms (4-row CSV, --dry-run)": [
        "migrate",
        "forms",
        "north_2024.csv",
        "--mapping",
        "m.yaml",
        "--csv-times",
        "none",
        "--dry-run",
    ],  # fmt: skip
}


def prepare(directory: Path) -> None:
    """A config, a 4-row Forms export and its reviewed mapping (made by this checkout's `init`)."""
    (directory / "cetk.yaml").write_text(
        "paths:\n  staging_dir: staging\n  quarantine_dir: quarantine\n  state_dir: state\n", encoding="utf-8"
    )
    (directory / "north_2024.csv").write_text(CSV, encoding="utf-8")
    command = ["migrate", "forms", "init", "north_2024.csv", "--csv-times", "none", "--json"]
    proposal = json.loads(run(command, ROOT, directory)[2])
    import yaml

    document = yaml.safe_load(proposal["mapping"])
    document["forms"][0]["files"] = ["north_*"]
    document["forms"][0]["constants"] = {
        "lpt_code": "STOKE_N",
        "information_submitted": False,
        "smart_alert_signup": False,
        "diversity_consent": False,
    }
    (directory / "m.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def forms_command(export: Path, directory: Path) -> list[str]:
    """The Forms migration bench's export and mapping (bench/bench_forms_migrate.py) as a `cetk` command."""
    from bench.bench_forms_migrate import bench_mapping
    from transforms.forms_mapping import dump_forms_mapping

    questions = int(export.stem.split("x")[-1])
    (directory / "bench-mapping.yaml").write_text(
        dump_forms_mapping(bench_mapping(questions)), encoding="utf-8"
    )
    return [
        "migrate",
        "forms",
        str(export.resolve()),
        "--mapping",
        "bench-mapping.yaml",
        "--dry-run",
    ]


def run(arguments: list[str], root: Path, cwd: Path) -> tuple[float, float, str, list[str]]:
    """One child: (CPU seconds, wall seconds, stdout, heavy modules loaded), with `root`'s code first."""
    with tempfile.NamedTemporaryFile(prefix="cetk-bench-modules-", suffix=".json") as modules:
        environment = {
            **os.environ,
            "PYTHONPATH": str(root),
            "CETK_BENCH_MODULES": modules.name,
            "CETK_PSEUDONYMISATION_KEY": KEY,
        }
        environment.pop("CETK_CONFIG", None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *arguments],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{arguments} under {root} exited {done.returncode}:\n{done.stderr}")
        loaded = json.loads(Path(modules.name).read_text(encoding="utf-8"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout, loaded


def compile_tree(root: Path) -> None:
    """Byte-compile the product's modules, as an install does: this machine sets PYTHONDONTWRITEBYTECODE,
    so a fresh export would otherwise compile every module from source in every child."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-x", r"/(\.venv|\.git|node_modules)/", str(root)],
        check=True,
    )


def export_revision(revision: str, into: Path) -> Path:
    """The whole tree of git revision `revision` (git archive), to run its code side by side with this one."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="rounds (median quoted)")
    parser.add_argument("--compare", metavar="REV", help="run git revision REV's cetk beside this checkout's")
    parser.add_argument("--only", metavar="NAME", action="append", help="only this command (repeatable)")
    parser.add_argument(
        "--forms",
        type=Path,
        metavar="XLSX",
        help="also time a whole `cetk migrate forms --dry-run` process on this export of "
        "bench/bench_forms_migrate.py (e.g. /tmp/cetk-bench-forms/forms_100000x20.xlsx), with its mapping",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print(f"load average before: {os.getloadavg()}")
    commands = {name: argv for name, argv in COMMANDS.items() if not args.only or name in args.only}
    with tempfile.TemporaryDirectory(prefix="cetk-bench-startup-") as directory:
        work = Path(directory) / "work"
        work.mkdir()
        prepare(work)
        if args.forms:
            commands["cetk migrate forms (bench export, --dry-run)"] = forms_command(args.forms, work)
        sides = [("this checkout", ROOT)]
        if args.compare:
            sides.insert(0, (args.compare, export_revision(args.compare, Path(directory) / "before")))
        for _, root in sides:
            compile_tree(root)
        figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
        loaded: dict[tuple[str, str], list[str]] = {}
        for number in range(args.repeat):
            for name, argv in commands.items():
                order = sides if number % 2 == 0 else list(reversed(sides))
                for side, root in order:
                    cpu, wall, _, modules = run(argv, root, work)
                    figures.setdefault((name, side), []).append((cpu, wall))
                    loaded[(name, side)] = modules
            print(f"round {number + 1} done, load {os.getloadavg()[0]:.1f}", flush=True)
    print(
        "| command | " + " | ".join(f"{side}: CPU / wall" for side, _ in sides) + " | heavy modules loaded |"
    )
    for name in commands:
        cells = []
        for side, _ in sides:
            runs = figures[(name, side)]
            cells.append(
                f"{statistics.median(c for c, _ in runs):.3f} s / {statistics.median(w for _, w in runs):.3f} s"
            )
        shown = "; ".join(f"{side}: {', '.join(loaded[(name, side)]) or '-'}" for side, _ in sides)
        print(f"| {name} | {' | '.join(cells)} | {shown} |")
    if args.compare:
        for name in commands:
            before, after = figures[(name, sides[0][0])], figures[(name, sides[1][0])]
            ratios = [b[0] / a[0] for b, a in zip(before, after, strict=True)]
            print(f"{name}: CPU before / after per round {[round(r, 2) for r in ratios]}, "
                  f"median {statistics.median(ratios):.2f}x")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
