"""The scrubber: each kind of personal detail replaced, police and place words kept, counts never values."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from emulator.demo.force import Force, generate_force
from transforms.scrub import KINDS, PROTECT, Scrubber, scrub, scrub_text

# (text, scrubbed text): one table per kind, the forms people really write.
POSITIVE = {
    "EMAIL": [
        ("contact karen.whitfield12@example.com", "contact [EMAIL]"),
        (
            "Email from resident (j.bloggs@example.co.uk) about litter",
            "Email from resident ([EMAIL]) about litter",
        ),
        ("EMAIL: DAVE_SMITH+PACT@Mail.Example.ORG", "EMAIL: [EMAIL]"),
        ("reply to karen at example dot com", "reply to [EMAIL]"),
        ("reply to karen (at) example (dot) co dot uk please", "reply to [EMAIL] please"),
    ],
    "URL": [
        ("see www.facebook.com/karen.smith.77 for the video", "see [URL] for the video"),
        ("posted on https://example.org/group?id=12.", "posted on [URL]."),
        ("shop page karensnails.co.uk/contact", "shop page [URL]"),
    ],
    "PHONE": [
        ("call back on 07700 900123", "call back on [PHONE]"),
        ("mob 07700900123.", "mob [PHONE]."),
        ("ring +44 7700 900123 or +44 (0)7700 900 124", "ring [PHONE] or [PHONE]"),
        ("0044 7700 900125 after six", "[PHONE] after six"),
        ("landline (01782) 234567", "landline [PHONE]"),
        ("on 01782 234567 or 0121 496 0000 or 020 7946 0000", "on [PHONE] or [PHONE] or [PHONE]"),
        ("number 07700-900-126", "number [PHONE]"),
        ("tel: 234567 evenings", "tel: [PHONE] evenings"),
        ("Mobile 07700 900 127", "Mobile [PHONE]"),
    ],
    "POSTCODE": [
        ("lives near ST4 7AB", "lives near [POSTCODE]"),
        ("ST13 6AB and WS11 9XY", "[POSTCODE] and [POSTCODE]"),
        ("postcode st4 7ab", "postcode [POSTCODE]"),
        ("DE147QW", "[POSTCODE]"),
        ("B77 2HJ Tamworth", "[POSTCODE] Tamworth"),
        ("EC1A 1BB", "[POSTCODE]"),
    ],
    "VEHICLE_REG": [
        ("vehicle AB12 CDE seen", "vehicle [VEHICLE_REG] seen"),
        ("silver Astra ab12cde", "silver Astra [VEHICLE_REG]"),
        ("old Fiesta P123 ABC", "old Fiesta [VEHICLE_REG]"),
        ("van M123ABC parked up", "van [VEHICLE_REG] parked up"),
        ("classic ABC 123D at the show", "classic [VEHICLE_REG] at the show"),
    ],
    "NI_NUMBER": [
        ("NI QQ 12 34 56 C on the form", "NI [NI_NUMBER] on the form"),
        ("ni no ab123456d", "ni no [NI_NUMBER]"),
    ],
    "ADDRESS": [
        ("lives at 14 Meadow Close", "lives at [ADDRESS]"),
        ("Flat 3, 12 Church Lane, Leek", "[ADDRESS], Leek"),
        ("23a Victoria Road", "[ADDRESS]"),
        ("12-14 High Street", "[ADDRESS]"),
        ("8 Mill Hill Rd", "[ADDRESS]"),
        ("the house at 7 church lane", "the house at [ADDRESS]"),
        ("flat 6 above the chippy", "[ADDRESS] above the chippy"),
        ("at number 23 the door was kicked in", "at [ADDRESS] the door was kicked in"),
    ],
    "DATE_OF_BIRTH": [
        ("DOB 01/02/1980", "[DATE_OF_BIRTH]"),
        ("d.o.b. 3 March 1975", "[DATE_OF_BIRTH]"),
        ("born on 12.07.2009", "[DATE_OF_BIRTH]"),
    ],
    "REFERENCE": [
        ("see incident 123 of 12/03/2024", "see incident [REFERENCE]"),
        ("crime ref SP/12345/24 given", "crime ref [REFERENCE] given"),
        ("log 4567", "log [REFERENCE]"),
    ],
    "COLLAR_NUMBER": [
        ("PC 1234 attended", "PC [COLLAR_NUMBER] attended"),
        ("PCSO5678 on foot", "PCSO [COLLAR_NUMBER] on foot"),
    ],
    "NAME": [
        ("raised by Karen Whitfield", "raised by [NAME]"),
        ("Mrs Patel called", "Mrs [NAME] called"),
        ("PCSO Bourne and Sgt Mellor attended", "PCSO [NAME] and Sgt [NAME] attended"),
        ("Cllr Degg asked", "Cllr [NAME] asked"),
        ("Mr J. Smith and Dr A Khan", "Mr [NAME] and Dr [NAME]"),
        ("Spoke to Gary about the bins", "Spoke to [NAME] about the bins"),
        ("Mohammed Ali Khan came in", "[NAME] came in"),
        ("Jaswinder's shop", "[NAME]'s shop"),
        ("my name is Tunnicliffe", "my name is [NAME]"),
        ("a lad called Zebedee Quint", "a lad called [NAME]"),
        ("spoke to karen at the door", "spoke to [NAME] at the door"),
        ("neighbour Podmore complained", "neighbour [NAME] complained"),
    ],
}

# Text that must come out unchanged, filed under the kind it could be mistaken for: police jargon,
# theme words, places in the force area, LPT names, dates and times, road numbers, street names
# without a house number, counts and ages.
KEPT = {
    "PHONE": [
        "Called 101 and 999",
        "Meeting on 12/03/2024 at 10:30, next one 14.05.24 at 7pm",
        "Drop-in 0930-1100 on Tuesday 3 March",
        "£5,000 taken in a courier fraud",
        "Speed checks: 42, 38 and 51 in a 30",
    ],
    "POSTCODE": [
        "ST4 area, ST13 district",
        "A34 2nd time this week, M6 4th",
        "the A50 3pm and the B5 4am runs",
    ],
    "VEHICLE_REG": [
        "Speeding on the A34 near M6 junction 15 and the A50 at Blythe Bridge",
        "Accident on the M6 J15 and the B5027",
        "SPEEDING ON THE A50 AND A34 AND M6 JCT 15",
        "Catalytic converters stolen from 3 vans",
    ],
    "NI_NUMBER": ["Year 9 and Year 10 pupils, 12 34 56 leaflets"],
    "ADDRESS": [
        "Parking on Church Lane and Leek New Road",
        "5 cars street racing on Church Lane",
        "2 kids on the road, 10 mins drive from Leek",
        "15 year olds, 30mph limit, 3 times this week",
        "3 back gardens and 2 rear gardens checked",
    ],
    "REFERENCE": ["Incident at the shops, log kept by the shop"],
    "COLLAR_NUMBER": ["PC attended with PCSO colleagues"],
    "NAME": [
        "County Lines and Anti Social Behaviour near the Co-op",
        "ASB, CPW issued, PSPO in force",
        "Stoke, Leek, Burton and Uttoxeter",
        "Stoke North (Hanley), Stoke South (Longton), Newcastle-under-Lyme, Staffordshire Moorlands",
        "East Staffordshire, South Staffordshire, Cannock Chase, Lichfield, Tamworth",
        "Speeding on Victoria Road and George Street",
        "St Mary's Church Hall and St George's Park",
        "Smart Alert, Neighbourhood Watch and Community Speed Watch",
        "Year 9 pupils at Leek High",
        "spoke to Leek police and Staffordshire Council",
        "contact Victim Support",
        "Drug dealing, cuckooing and county lines in Burslem",
        "Visit to Tunstall Methodist Church on Monday in March",
    ],
}


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [(kind, text, expected) for kind, cases in POSITIVE.items() for text, expected in cases],
)
def test_each_kind_is_replaced_by_its_placeholder(kind: str, text: str, expected: str) -> None:
    result = scrub(pd.Series([text]))
    assert result.text.iloc[0] == expected
    assert result.counts[kind] >= 1  # type: ignore[index]


@pytest.mark.parametrize(("kind", "text"), [(kind, text) for kind, texts in KEPT.items() for text in texts])
def test_police_words_places_dates_and_roads_are_kept(kind: str, text: str) -> None:
    result = scrub(pd.Series([text]))
    assert result.text.iloc[0] == text
    assert result.found == ()
    assert result.rows_scrubbed == 0


def test_counts_say_how_many_of_each_kind_and_never_what() -> None:
    texts = pd.Series(
        [
            "raised by Karen Whitfield, call 07700 900123",
            None,
            "near ST4 7AB and ST5 1AB",
            "nothing personal",
        ],
        index=[10, 11, 12, 13],
        name="notes",
    )
    result = scrub(texts)
    assert result.counts == {**dict.fromkeys(KINDS, 0), "NAME": 1, "PHONE": 1, "POSTCODE": 2}
    assert result.found == ("PHONE", "POSTCODE", "NAME")
    assert result.rows_scrubbed == 2
    assert list(result.text.index) == [10, 11, 12, 13]
    assert result.text.name == "notes"
    assert pd.isna(result.text.loc[11])
    assert result.text.loc[13] == "nothing personal"
    assert "Karen" not in repr(result.counts) and "07700" not in repr(result)


def test_the_protection_marker_cannot_be_smuggled_in() -> None:
    # The scrubber marks words it must not take for names with a private-use character; a text that
    # already holds it must not be able to shield a name.
    assert scrub_text(f"raised by {PROTECT}Karen Whitfield") == "raised by [NAME]"


def test_arrow_input_gives_the_same_result() -> None:
    texts = ["call 07700 900123", None, "Mrs Patel"]
    cleaned, counts = Scrubber().scrub_arrow(pa.chunked_array([texts[:2], texts[2:]], pa.large_string()))
    assert cleaned.to_pylist() == ["call [PHONE]", None, "Mrs [NAME]"]
    assert counts["PHONE"] == 1 and counts["NAME"] == 1


def test_a_force_can_bring_its_own_name_lists() -> None:
    assert scrub_text("Spoke to Zebedee about it") == "Spoke to [NAME] about it"  # trigger phrase
    assert scrub_text("Zebedee Quint was there") == "Zebedee Quint was there"
    own = Scrubber(first_names=frozenset({"Zebedee"}))
    assert scrub_text("Zebedee Quint was there", own) == "[NAME] was there"
    kept = Scrubber(not_names=Scrubber().not_names | {"Quint"})
    assert scrub_text("spoke to Quint residents", kept) == "spoke to Quint residents"


def test_unicode_names_after_titles() -> None:
    assert scrub_text("Mrs Łukasiewicz and Mr Ó Briain") == "Mrs [NAME] and Mr [NAME]"


@pytest.fixture(scope="module")
def demo_force() -> Force:
    return generate_force(seed=11, events=800, ccrs=50, invalid_fraction=0)


def demo_free_text(force: Force) -> pd.Series:
    """Every free-text value the demo force writes: event names, notes, 'You said, we did'."""
    actions = force.tables["you_said_we_did"]
    parts = [force.tables["events"]["event_name"], actions["you_said"], actions["we_did"]]
    parts.append(pd.Series(list(force.event_notes.values()), dtype="string"))
    return pd.concat(parts, ignore_index=True).dropna().astype(str)


def squeezed(text: str) -> str:
    return "".join(text.split()).lower()


@pytest.mark.parametrize("first_names", ["bundled", "none"])
def test_no_detail_the_demo_force_plants_survives(demo_force: Force, first_names: str) -> None:
    # "none" drops the bundled first-name list, so the names must go on the other heuristics alone:
    # the product knows nothing of the demo's people.
    scrubber = Scrubber() if first_names == "bundled" else Scrubber(first_names=frozenset())
    texts = demo_free_text(demo_force)
    planted = demo_force.planted_pii
    assert len(planted) >= 30
    holding = texts[texts.map(lambda text: any(detail in text for detail in planted))]
    assert len(holding) >= 30
    result = scrubber.scrub(texts)
    everything = "\n".join(result.text)
    for detail in planted:
        assert detail not in everything
        assert squeezed(detail) not in squeezed(everything)
    names = [detail for detail in planted if " " in detail and not any(ch.isdigit() for ch in detail)]
    assert names
    for name in names:
        for text in result.text[texts.str.contains(name, regex=False)]:
            assert not set(name.split()) & set(text.replace(".", " ").replace(",", " ").split())
    assert result.rows_scrubbed == len(holding)  # and nothing else in the demo text was touched
    assert all(result.counts[kind] for kind in ("NAME", "PHONE", "EMAIL", "POSTCODE", "VEHICLE_REG"))


def every_rule_on_every_text(scrubber: Scrubber, texts: pa.Array) -> tuple[list[str | None], dict[str, int]]:
    """The rules as written, with none of scrub_arrow's shortcuts: the reference it must equal."""
    counts = dict.fromkeys(KINDS, 0)
    current = pc.replace_substring(texts, PROTECT, "")
    for rule in scrubber.rules:
        if rule.kind is not None:
            counts[rule.kind] += pc.sum(pc.count_substring_regex(current, rule.pattern)).as_py() or 0
        current = pc.replace_substring_regex(current, rule.pattern, rule.replacement)
    return current.to_pylist(), counts


@pytest.mark.parametrize("first_names", ["bundled", "none"])
def test_the_shortcuts_change_no_text_and_no_count(demo_force: Force, first_names: str) -> None:
    """Rules that need a digit run only on texts with one, and none at all when no text has one."""
    scrubber = Scrubber() if first_names == "bundled" else Scrubber(first_names=frozenset())
    texts = [*demo_free_text(demo_force), None, "", "no digits here, Mr Smith", f"{PROTECT}12 High St"]
    for sample in (texts, [text for text in texts if not text or not any(c.isdigit() for c in text)]):
        array = pa.array(sample, pa.string())
        cleaned, counts = scrubber.scrub_arrow(array)
        assert (cleaned.to_pylist(), counts) == every_rule_on_every_text(scrubber, array)
    assert any(rule.needs_digit for rule in scrubber.rules)


def test_rules_that_need_a_digit_say_so_in_their_pattern() -> None:
    """A guard on the marking: each marked rule's pattern has a digit class every match must use, and
    its replacement adds no digit (the reasoning is on Rule.needs_digit)."""
    for rule in Scrubber().rules:
        if rule.needs_digit:
            written = re.sub(
                r"\\[0-9]", "", rule.replacement
            )  # group references (\1) add no text of their own
            assert r"\d" in rule.pattern and not any(c.isdigit() for c in written), rule.kind
