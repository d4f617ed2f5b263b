"""`python -m emulator.demo --write-sample DIR | --write-forms DIR [--seed N --events N --ccrs N]`.

Writes the bundled sample data set (powerbi_dataset/sample/) or the legacy Forms exports of a demo force.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from emulator.demo.force import generate_force
from emulator.demo.forms import write_forms_exports
from emulator.demo.sample import write_sample


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.demo", description=__doc__)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--write-sample", metavar="DIR", type=Path, help="write the bundled sample CSVs")
    target.add_argument("--write-forms", metavar="DIR", type=Path, help="write legacy Forms exports")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--ccrs", type=int, default=None)
    args = parser.parse_args(argv)
    overrides = {
        name: value
        for name, value in vars(args).items()
        if name in ("seed", "events", "ccrs") and value is not None
    }
    if args.write_sample is not None:
        written = write_sample(args.write_sample, **overrides)
    else:
        written = write_forms_exports(generate_force(**overrides), args.write_forms)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
