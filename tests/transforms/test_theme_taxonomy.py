"""The theme taxonomy: the packaged default, a force's own file, and clear refusals of bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from errors import ConfigError
from powerbi_dataset.codes import THEMES
from transforms.theme_taxonomy import load_taxonomy, normalise_phrase, parse_taxonomy

GOOD = """
version: force-themes-v3
themes:
  PARKING:
    phrases: [parking, double yellows]
    misspellings: [parkin]
  OTHER:
    phrases: [pothole*]
"""


def test_the_packaged_default_is_versioned_and_covers_every_theme() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.version == "themes-v1"
    assert taxonomy.source == "packaged themes-v1.yaml"
    with_phrases = {theme.code for theme in taxonomy.themes if theme.phrases}
    # OTHER is what is left when nothing matches, so the default gives it no phrases.
    assert with_phrases == {code.code for code in THEMES} - {"OTHER"}
    assert taxonomy.negation.window_words == 2
    assert "no" in taxonomy.negation.before


def test_a_force_supplies_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "our-themes.yaml"
    path.write_text(GOOD, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.version == "force-themes-v3"
    assert taxonomy.source == str(path)
    parking = taxonomy.rule("PARKING")
    assert parking is not None and parking.phrases == ("parking", "double yellows", "parkin")
    other = taxonomy.rule("OTHER")
    assert other is not None and other.phrases == ("pothole*",)
    assert taxonomy.rule("DRUGS") is None


@pytest.mark.parametrize(
    ("document", "names"),
    [
        (GOOD.replace("PARKING:", "CAR_PARKING:"), ["themes.CAR_PARKING", "not a theme code of the model"]),
        (GOOD.replace("version: force-themes-v3", ""), ["version", "is required"]),
        (GOOD.replace("version: force-themes-v3", "version: ''"), ["version", "is required"]),
        (GOOD.replace("misspellings:", "typos:"), ["themes.PARKING", "unknown key 'typos'"]),
        (GOOD + "    superseded_by: [BIKES]\n", ["themes.OTHER.superseded_by", "'BIKES'"]),
        (
            GOOD.replace("[parking, double yellows]", "[parking, '  ']"),
            ["themes.PARKING.phrases item 2", "no letters"],
        ),
        (
            GOOD.replace("[parking, double yellows]", "[par*king]"),
            ["themes.PARKING.phrases item 1", "'*' may only end"],
        ),
        (GOOD.replace("[parking, double yellows]", "[parking, false]"), ["item 2", "quote true, false"]),
        (GOOD.replace("[pothole*]", "[parking]"), ["themes.OTHER", "'parking' is also listed under PARKING"]),
        (GOOD + "negation:\n  window_words: 9\n", ["negation.window_words", "0 to 5"]),
        (GOOD + "negation:\n  before: [nothing*]\n", ["negation.before", "only allowed in theme phrases"]),
        (GOOD + "colour: blue\n", ["document", "unknown key 'colour'"]),
        ("version: x\nthemes: [PARKING]\n", ["themes", "is required"]),
        ("version: x\nthemes:\n  PARKING: [a\n", ["line", "not valid YAML"]),
        ("- just a list\n", ["document", "must be a mapping"]),
    ],
)
def test_a_bad_taxonomy_is_refused_naming_the_file_and_entry(document: str, names: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_taxonomy(document, source="forces/ours.yaml")
    message = str(caught.value)
    assert message.startswith(("taxonomy forces/ours.yaml: ", "taxonomy forces/ours.yaml, line "))
    for name in names:
        assert name in message
    assert "docs/themes.md" in caught.value.hint


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_taxonomy(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("phrase", "normalised"),
    [
        ("Anti-Social  Behaviour", "anti social behaviour"),
        ("fly-tipping", "fly tipping"),
        ("isn't an issue", "isnt an issue"),
        ("teenager's", "teenager"),
        ("c/d", "c d"),
        ("burgl*", "burgl*"),
    ],
)
def test_phrases_are_normalised_like_the_text(phrase: str, normalised: str) -> None:
    assert normalise_phrase(phrase) == normalised


def test_yes_no_on_off_are_phrases_and_anchors_are_refused() -> None:
    taxonomy = parse_taxonomy(
        GOOD.replace("[parking, double yellows]", "[parking, no, Yes, on, OFF]"), source="ours.yaml"
    )
    rule = taxonomy.rule("PARKING")
    assert rule is not None and {"no", "yes", "on", "off"} <= set(rule.phrases)
    with pytest.raises(ConfigError, match="taxonomy ours.yaml, line 3: anchors"):
        parse_taxonomy("version: x\nthemes:\n  PARKING: &p [a]\n  ASB: *p\n", source="ours.yaml")
