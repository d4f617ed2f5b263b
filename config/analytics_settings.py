"""The settings `cetk report` and `cetk publish` share: reference geography, evaluation window, disclosure.

Parsed here from the layered values (config/loader.py) into `Settings.analytics`; pipeline/published.py
turns them into the one AnalyticsOptions both commands use, so the report shows what publish posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from config.checks import describe_source
from config.settings import FIELDS_BY_KEY, AnalyticsSettings, Source
from errors import ConfigError

# key -> (lowest, highest) whole number allowed
WHOLE_NUMBERS: Mapping[str, tuple[int, int]] = {
    "report.evaluation_weeks": (1, 52),
    "disclosure.threshold": (1, 1_000),
    "disclosure.rounding_base": (1, 1_000),
    "disclosure.min_percentage_base": (0, 100_000),
}


def parse_analytics_settings(
    values: Mapping[str, str | None], sources: Mapping[str, Source], config_path: Path | None
) -> tuple[AnalyticsSettings, list[ConfigError]]:
    """The shared analytics settings; a value that is not a whole number in range is a problem naming
    the key and where it came from (the default is used in its place)."""
    problems: list[ConfigError] = []
    numbers: dict[str, int] = {}
    for key, (lowest, highest) in WHOLE_NUMBERS.items():
        default = int(str(FIELDS_BY_KEY[key].default))
        text = (values.get(key) or "").strip()
        try:
            number = int(text) if text else default
        except ValueError:
            number = lowest - 1
        if not lowest <= number <= highest:
            where = describe_source(key, sources.get(key, "default"), config_path)
            problems.append(
                ConfigError(
                    f"setting '{key}' (from {where}) must be a whole number from {lowest} to {highest}",
                    hint=f"set {key} to a whole number, e.g. {default} (the default)",
                )
            )
            number = default
        numbers[key] = number
    folder = (values.get("geography.dir") or "").strip()
    return (
        AnalyticsSettings(
            geography_dir=Path(folder) if folder else None,
            evaluation_weeks=numbers["report.evaluation_weeks"],
            disclosure_threshold=numbers["disclosure.threshold"],
            disclosure_rounding_base=numbers["disclosure.rounding_base"],
            disclosure_min_percentage_base=numbers["disclosure.min_percentage_base"],
        ),
        problems,
    )


def is_analytics_problem(problem: ConfigError) -> bool:
    """True for a problem of these settings (a command that loads settings leniently still stops on it)."""
    return any(problem.message.startswith(f"setting '{key}' ") for key in WHOLE_NUMBERS)
