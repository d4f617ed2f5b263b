"""The versioned keyword taxonomy that maps free-text issues to theme codes: parse, validate, load.

`parse_taxonomy` is pure (YAML text in, `Taxonomy` out). `load_taxonomy` is the one place in
transforms that reads a file: the path a force passes in, or the packaged default themes-v1.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from config.safe_yaml import YamlLimits, parse_yaml
from errors import ConfigError
from powerbi_dataset.codes import NO_ISSUES, THEMES

DEFAULT_TAXONOMY = "themes-v1.yaml"
THEME_CODES: tuple[str, ...] = tuple(code.code for code in THEMES)
PHRASE_LISTS = ("phrases", "synonyms", "misspellings")
THEME_KEYS = frozenset((*PHRASE_LISTS, "superseded_by"))
TOP_KEYS = frozenset(("version", "description", "negation", "activity", "themes"))
NEGATION_KEYS = frozenset(("window_words", "before", "after", "breaks"))
ACTIVITY_KEYS = frozenset(("before", "after"))
MAX_WINDOW_WORDS = 5
# The packaged taxonomy is 12 kB and 4 levels deep (themes -> code -> phrases -> phrase).
LIMITS = YamlLimits(max_bytes=1_000_000, max_depth=8, max_nodes=100_000)
_HINT = "fix the taxonomy file (format: docs/themes.md) or omit it to use the packaged default"


@dataclass(frozen=True)
class ThemeRule:
    """One theme's normalised phrases ("*" ends a word prefix) and the themes that override it."""

    code: str
    phrases: tuple[str, ...]
    superseded_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Negation:
    window_words: int = 2
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    breaks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Activity:
    """Words marking a mention as police activity ("drugs awareness talk"), neither issue nor negation."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    version: str
    source: str  # the file it came from, for messages
    themes: tuple[ThemeRule, ...]
    negation: Negation
    activity: Activity = Activity()

    def rule(self, code: str) -> ThemeRule | None:
        return next((theme for theme in self.themes if theme.code == code), None)


def normalise_phrase(phrase: str) -> str:
    """The phrase as the classifier compares it: lower case, no apostrophes, words split on punctuation."""
    lowered = re.sub(r"['’‘`]", "", re.sub(r"['’‘`]s\b", "", phrase.lower()))
    return " ".join(re.sub(r"[^a-z0-9*]+", " ", lowered).split())


def _fail(source: str, where: str, problem: str) -> ConfigError:
    return ConfigError(f"taxonomy {source}: {where}: {problem}", hint=_HINT)


def _phrase_list(value: Any, source: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(source, where, "must be a list of phrases")
    phrases: list[str] = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise _fail(
                source,
                f"{where} item {position}",
                "must be text (quote true, false and null: YAML reads them as booleans and nothing)",
            )
        phrase = normalise_phrase(str(item))
        if not phrase or phrase == "*":
            raise _fail(source, f"{where} item {position}", "has no letters or digits")
        if any("*" in word[:-1] for word in phrase.split()) or phrase.startswith("*"):
            raise _fail(source, f"{where} item {position}", "'*' may only end a word")
        phrases.append(phrase)
    return tuple(dict.fromkeys(phrases))


def _theme(code: str, body: Any, source: str) -> ThemeRule:
    where = f"themes.{code}"
    if body is None:
        return ThemeRule(code, ())
    if not isinstance(body, dict):
        raise _fail(source, where, f"must be a mapping with {', '.join(sorted(THEME_KEYS))}")
    unknown = sorted(str(key) for key in body if key not in THEME_KEYS)
    if unknown:
        raise _fail(source, where, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(THEME_KEYS))})")
    phrases = tuple(
        dict.fromkeys(
            p for name in PHRASE_LISTS for p in _phrase_list(body.get(name), source, f"{where}.{name}")
        )
    )
    superseded_by = body.get("superseded_by") or []
    if not isinstance(superseded_by, list):
        raise _fail(source, f"{where}.superseded_by", "must be a list of theme codes")
    for other in superseded_by:
        if other not in THEME_CODES or other in (code, NO_ISSUES):
            raise _fail(source, f"{where}.superseded_by", f"{other!r} is not another theme code of the model")
    return ThemeRule(code, phrases, tuple(str(other) for other in superseded_by))


def _section(body: Any, source: str, name: str, keys: frozenset[str]) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _fail(source, name, "must be a mapping")
    unknown = sorted(str(key) for key in body if key not in keys)
    if unknown:
        raise _fail(source, name, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(keys))})")
    return body


def _cue_lists(
    body: dict[str, Any], source: str, section: str, names: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    lists = {name: _phrase_list(body.get(name), source, f"{section}.{name}") for name in names}
    for name, phrases in lists.items():
        if any("*" in phrase for phrase in phrases):
            raise _fail(source, f"{section}.{name}", "'*' is only allowed in theme phrases")
    return lists


def _activity(raw: Any, source: str) -> Activity:
    lists = _cue_lists(
        _section(raw, source, "activity", ACTIVITY_KEYS), source, "activity", ("before", "after")
    )
    return Activity(lists["before"], lists["after"])


def _negation(raw: Any, source: str) -> Negation:
    body = _section(raw, source, "negation", NEGATION_KEYS)
    window = body.get("window_words", Negation.window_words)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= MAX_WINDOW_WORDS:
        raise _fail(source, "negation.window_words", f"must be a whole number from 0 to {MAX_WINDOW_WORDS}")
    lists = _cue_lists(body, source, "negation", ("before", "after", "breaks"))
    return Negation(window, lists["before"], lists["after"], lists["breaks"])


def parse_taxonomy(document: str, *, source: str) -> Taxonomy:
    """Validate a taxonomy document; every problem names the file and the entry."""
    body = parse_yaml(document, f"taxonomy {source}", limits=LIMITS, hint=_HINT)
    if not isinstance(body, dict):
        raise _fail(source, "document", "must be a mapping with version and themes")
    unknown = sorted(str(key) for key in body if key not in TOP_KEYS)
    if unknown:
        raise _fail(
            source, "document", f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_KEYS))})"
        )
    version = body.get("version")
    if not isinstance(version, str | int) or isinstance(version, bool) or not str(version).strip():
        raise _fail(source, "version", "is required (for example 'version: force-themes-v1')")
    themes_body = body.get("themes")
    if not isinstance(themes_body, dict) or not themes_body:
        raise _fail(source, "themes", "is required: a mapping from theme code to its phrases")
    themes: list[ThemeRule] = []
    for code, theme_body in themes_body.items():
        if code not in THEME_CODES:
            raise _fail(
                source,
                f"themes.{code}",
                f"is not a theme code of the model (known: {', '.join(THEME_CODES)})",
            )
        themes.append(_theme(str(code), theme_body, source))
    owner: dict[str, str] = {}
    for theme in themes:
        for phrase in theme.phrases:
            if owner.setdefault(phrase, theme.code) != theme.code:
                raise _fail(
                    source, f"themes.{theme.code}", f"phrase {phrase!r} is also listed under {owner[phrase]}"
                )
    negation = _negation(body.get("negation"), source)
    return Taxonomy(
        str(version).strip(), source, tuple(themes), negation, _activity(body.get("activity"), source)
    )


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a force's taxonomy file, or the packaged default when `path` is None."""
    if path is None:
        resource = resources.files("transforms.taxonomy").joinpath(DEFAULT_TAXONOMY)
        return parse_taxonomy(resource.read_text(encoding="utf-8"), source=f"packaged {DEFAULT_TAXONOMY}")
    try:
        document = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"taxonomy file {path} not found", hint="check the path, or omit it for the default"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"taxonomy file {path} cannot be read ({type(exc).__name__})", hint=_HINT) from None
    return parse_taxonomy(document, source=str(path))
