"""transforms.forms_apply: a Forms mapping applied to an export's tables, value by value, problems by row."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from powerbi_dataset.model import DATASET
from transforms.forms_apply import map_export, migration_keys, unmapped_questions
from transforms.forms_mapping import FormMapping, QuestionMapping

UTC = dt.UTC
FORM = FormMapping(
    form="north",
    table="ccr",
    constants=(("lpt_code", "STOKE_N"), ("smart_alert_signup", False)),
    completion_time="recorded_utc",
    respondent="officer_key",
    questions=(
        QuestionMapping("When?", to="recorded_local_date"),
        QuestionMapping("Where?", to="contact_setting", choices=(("Patrol", "PATROL"), ("Door knock", "DOOR_KNOCK"))),
        QuestionMapping("Issues", to="theme_code", multi=True, bridge="ccr_issues",
                        choices=(("Drugs", "DRUGS"), ("Noise", "NOISE"))),
        QuestionMapping("Consent?", to="diversity_consent", choices=(("Yes", True), ("No", False))),
        QuestionMapping("Confidence", to="confidence_understands_issues"),
        QuestionMapping("Comments", ignore="free text"),
    ),
)  # fmt: skip


def parse_date(text: str) -> tuple[dt.date | None, str | None]:
    day, month, year = (int(part) for part in text.split("/"))
    return (dt.date(year, month, day), None) if month <= 12 else (None, "forms-bad-datetime")


def responses(ids: list[str | None]) -> pa.Table:
    done = [dt.datetime(2024, 5, 1, 9, n, tzinfo=UTC) for n in range(len(ids))]
    return pa.table({
        "row_number": pa.array(range(2, len(ids) + 2), pa.int64()),
        "response_id": pa.array(ids, pa.string()),
        "start_time_utc": pa.array(done, pa.timestamp("us", tz="UTC")),
        "completion_time_utc": pa.array(done, pa.timestamp("us", tz="UTC")),
        "last_modified_time_utc": pa.array([None] * len(ids), pa.timestamp("us", tz="UTC")),
        "is_anonymous": pa.array([False] * len(ids)),
        "respondent_email_key": pa.array(["ab" * 32, None, "cd" * 32][: len(ids)], pa.string()),
        "respondent_name_key": pa.array([None] * len(ids), pa.string()),
    })  # fmt: skip


ANSWERS = pa.table({
    "When?": ["01/05/2024", "31/13/2024", None],
    "Where?": ["Patrol", "On the moon", " Door knock "],
    "Issues": pa.array([["Drugs", "Noise", "Drugs"], ["Aliens"], []], pa.list_(pa.string())),
    "Consent?": ["Yes", "No", None],
    "Confidence": ["4", "four", "5"],
    "Comments": ["=1+1", "call 07700 900123", None],
})  # fmt: skip


def test_answers_become_codes_keys_and_lineage() -> None:
    mapped = map_export(responses(["1", "2", "3"]), ANSWERS, FORM, DATASET, parse_date)
    ccr = mapped.tables["ccr"].to_pylist()
    assert [row["ccr_id"] for row in ccr] == ["forms:north:1", "forms:north:2", "forms:north:3"]
    assert [row["contact_setting"] for row in ccr] == ["PATROL", None, "DOOR_KNOCK"]
    assert [row["diversity_consent"] for row in ccr] == [True, False, None]
    assert [row["confidence_understands_issues"] for row in ccr] == [4, None, 5]
    assert (
        ccr[0]["recorded_local_date"] == dt.datetime(2024, 5, 1, tzinfo=UTC)
        and ccr[1]["recorded_local_date"] is None
    )
    assert [row["officer_key"] for row in ccr] == ["ab" * 8, None, "cd" * 8]
    assert {row["lpt_code"] for row in ccr} == {"STOKE_N"} and {row["smart_alert_signup"] for row in ccr} == {
        False
    }
    assert {row["source_system"] for row in ccr} == {"forms_legacy"}
    assert [row["source_item_id"] for row in ccr] == ["1", "2", "3"]
    assert ccr[0]["source_version"] == "2024-05-01T09:00:00Z"
    assert tuple(mapped.tables["ccr"].schema.names) == tuple(
        DATASET.table("ccr").column_names
    )  # every column, model order


def test_free_text_never_leaves_the_export() -> None:
    mapped = map_export(responses(["1", "2", "3"]), ANSWERS, FORM, DATASET, parse_date)
    text = str(mapped.tables["ccr"].to_pylist()) + str(mapped.problems)
    assert "=1+1" not in text and "07700" not in text


def test_unknown_answers_bad_dates_and_numbers_are_row_problems_without_values() -> None:
    mapped = map_export(responses(["1", "2", "3"]), ANSWERS, FORM, DATASET, parse_date)
    found = sorted((p.row, p.key, p.column, p.code) for p in mapped.problems)
    assert found == [
        (1, "forms:north:2", "confidence_understands_issues", "wrong-type"),
        (1, "forms:north:2", "contact_setting", "unknown-label"),
        (1, "forms:north:2", "recorded_local_date", "forms-bad-datetime"),
        (1, "forms:north:2", "theme_code", "unknown-label"),
    ]
    assert all(
        p.value == "***" and "moon" not in p.message and "Aliens" not in p.message for p in mapped.problems
    )


def test_checkbox_answers_become_one_bridge_row_per_option() -> None:
    mapped = map_export(responses(["1", "2", "3"]), ANSWERS, FORM, DATASET, parse_date)
    issues = mapped.tables["ccr_issues"]
    assert [(r["ccr_id"], r["theme_code"]) for r in issues.to_pylist()] == [
        ("forms:north:1", "DRUGS"),
        ("forms:north:1", "NOISE"),
    ]  # "Drugs" twice is one row; the unknown option is left out (and reported)
    assert mapped.bridge_rows["ccr_issues"].to_pylist() == [0, 0]


def test_a_raw_checkbox_column_is_split_on_semicolons() -> None:
    answers = ANSWERS.set_column(2, "Issues", pa.array(["Drugs;Noise;", None, "Noise;"]))
    mapped = map_export(responses(["1", "2", "3"]), answers, FORM, DATASET, parse_date)
    assert mapped.tables["ccr_issues"].column("theme_code").to_pylist() == ["DRUGS", "NOISE", "NOISE"]


def test_a_missing_response_id_has_no_key() -> None:
    assert migration_keys("north", pa.array(["7", None])).to_pylist() == ["forms:north:7", None]


def test_unmapped_questions_are_listed_in_column_order() -> None:
    assert unmapped_questions(FORM, ["Where?", "New question", "Comments", "Another"]) == [
        "New question",
        "Another",
    ]


def test_completion_time_also_gives_the_local_date_when_no_question_does() -> None:
    undated = FormMapping(
        form="north", table="ccr", completion_time="recorded_utc",
        questions=tuple(q for q in FORM.questions if q.to != "recorded_local_date"),
    )  # fmt: skip
    table = responses(["1"]).set_column(
        3,
        "completion_time_utc",
        pa.array([dt.datetime(2024, 5, 1, 23, 30, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
    )
    mapped = map_export(table, ANSWERS.slice(0, 1), undated, DATASET, parse_date)
    row = mapped.tables["ccr"].to_pylist()[0]
    assert row["recorded_local_date"] == dt.datetime(2024, 5, 2, tzinfo=UTC)  # 00:30 BST on 2 May


def test_one_response_id_on_two_rows_keeps_each_rows_options() -> None:
    """Two versions of one response in an export: each row's options are its own, the later row's included
    where they repeat the earlier's, so dedupe (newest version wins) keeps the newest options whole."""
    answers = ANSWERS.set_column(
        2,
        "Issues",
        pa.array([["Drugs", "Noise", "Drugs"], ["Noise", "Drugs"], ["Noise"]], pa.list_(pa.string())),
    )
    mapped = map_export(responses(["1", "1", "3"]), answers, FORM, DATASET, parse_date)
    issues = mapped.tables["ccr_issues"]
    rows = mapped.bridge_rows["ccr_issues"].to_pylist()
    assert sorted(zip(rows, issues.column("theme_code").to_pylist(), strict=True)) == [
        (0, "DRUGS"), (0, "NOISE"), (1, "DRUGS"), (1, "NOISE"), (2, "NOISE"),
    ]  # fmt: skip
    assert issues.column("ccr_id").to_pylist().count("forms:north:1") == 4


def test_versions_are_strftimes_text_for_every_year() -> None:
    from datetime import UTC, datetime

    import pyarrow.compute as pc

    from transforms.forms_apply import _versions

    times = [datetime(2024, 5, 1, 9, 0, 0, 999_999, tzinfo=UTC), None, datetime(1, 1, 1, tzinfo=UTC),
             datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)]  # fmt: skip
    column = pa.array(times, pa.timestamp("us", tz="UTC"))
    responses = pa.table(
        {"last_modified_time_utc": pa.nulls(len(times), column.type), "completion_time_utc": column}
    )
    expected = pc.strftime(
        pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False), format="%Y-%m-%dT%H:%M:%SZ"
    )
    assert _versions(responses).to_pylist() == expected.to_pylist()
    assert _versions(responses).to_pylist()[2:4] == ["0001-01-01T00:00:00Z", "0999-12-31T23:59:59Z"]
