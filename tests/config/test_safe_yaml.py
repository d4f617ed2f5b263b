"""config.safe_yaml: every check runs on the event stream, before anything is expanded or nested.

Memory is measured with tracemalloc (allocations, deterministic), never time.
"""

from __future__ import annotations

import math
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.safe_yaml import KeyPath, YamlLimits, parse_yaml, read_yaml_file, safe_dump
from errors import ConfigError

# The classic "billion laughs": 9 levels of 9 aliases, 342 bytes that expand to 9^9 strings.
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{','.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8)
)
DEEP_FLOW = "[" * 5000 + "]" * 5000
DEEP_BLOCK = "".join("  " * depth + f"k{depth}:\n" for depth in range(5000)) + "  " * 5000 + "x\n"
DEEP_SEQUENCE = "".join("  " * depth + "-\n" for depth in range(5000))


def peak_bytes(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    except ConfigError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def refusal(text: str, **options: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "f.yaml", **options)
    return caught.value.message


def test_the_alias_bomb_is_refused_at_its_first_anchor_with_no_memory_growth() -> None:
    assert 300 < len(ALIAS_BOMB) < 700
    assert refusal(ALIAS_BOMB) == "f.yaml, line 1: anchors (&name) are not allowed"
    assert peak_bytes(lambda: parse_yaml(ALIAS_BOMB, "f.yaml")) < 2_000_000


@pytest.mark.parametrize("text", ["a: *nothing\n", "a: &x 1\n", "- &x {b: 1}\n", "? &k a\n: b\n"])
def test_any_anchor_or_alias_is_refused(text: str) -> None:
    assert "anchors" in refusal(text) or "aliases" in refusal(text)


@pytest.mark.parametrize("text", [DEEP_FLOW, "{a: " * 5000 + "}" * 5000, "[{a: " * 2500 + "}]" * 2500])
def test_deep_nesting_stops_at_the_cap_never_a_recursion_error(text: str) -> None:
    assert refusal(text, limits=YamlLimits(max_depth=10)) == "f.yaml, line 1: nested deeper than 10 levels"
    assert peak_bytes(lambda: parse_yaml(text, "f.yaml")) < 2_000_000


@pytest.mark.parametrize("text", [DEEP_BLOCK, DEEP_SEQUENCE])
def test_deep_block_nesting_is_refused_by_size_or_depth(text: str) -> None:
    assert "nested deeper than 10" in refusal(text, limits=YamlLimits(max_bytes=10**8, max_depth=10))
    assert "at most 1,000,000 are read" in refusal(text)  # 5,000 indented levels are 25 MB


def test_depth_counts_every_open_collection_the_top_one_included() -> None:
    limits = YamlLimits(max_depth=3)
    assert parse_yaml("a: {b: [1]}\n", "f.yaml", limits=limits) == {"a": {"b": [1]}}
    assert "nested deeper than 3" in refusal("a: {b: [[1]]}\n", limits=limits)


def test_node_and_size_caps() -> None:
    assert "more than 5 entries" in refusal("[1, 2, 3, 4, 5]\n", limits=YamlLimits(max_nodes=5))
    assert parse_yaml("[1, 2, 3, 4]\n", "f.yaml", limits=YamlLimits(max_nodes=5)) == [1, 2, 3, 4]
    assert "at most 10 are read" in refusal("a: 12345678\n", limits=YamlLimits(max_bytes=10))


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system x\n",
        "a: !!python/object/apply:os.system [ls]\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x: null}\n",
        "a: !!timestamp 2024-01-01\n",
        "a: !custom x\n",
        "a: !!omap [{x: 1}]\n",
        "%TAG !e! tag:example.com,2000:\n---\na: !e!thing b\n",
    ],
)
def test_explicit_tags_are_refused(text: str) -> None:
    assert "explicit tags" in refusal(text)


def test_standard_tags_are_read_and_checked() -> None:
    assert parse_yaml("a: !!str 123\nb: !!int '7'\nc: !!float '1.5'\nd: !!null ''\ne: ! 12\n", "f") == {
        "a": "123",
        "b": 7,
        "c": 1.5,
        "d": None,
        "e": "12",
    }
    assert "tagged !!int is not one" in refusal("a: !!int x\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[true, True, TRUE, false, FALSE]", [True, True, True, False, False]),
        ("[yes, No, on, OFF, y, n]", ["yes", "No", "on", "OFF", "y", "n"]),  # YAML 1.1 booleans stay text
        ("[~, null, NULL, '', 'null']", [None, None, None, "", "null"]),
        ("[1, -2, +3, 0o17, 0x1F, 0123, 1_000]", [1, -2, 3, 15, 31, 123, "1_000"]),
        ("[1.5, 1e3, -.5, .inf, -.INF]", [1.5, 1000.0, -0.5, math.inf, -math.inf]),
        ("[2024-01-01, 12:30, 1:20:30, 2024-13-45]", ["2024-01-01", "12:30", "1:20:30", "2024-13-45"]),
        ("[<<, =, '1']", ["<<", "=", "1"]),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, expected: list[Any]) -> None:
    assert parse_yaml(text, "f") == expected
    assert math.isnan(parse_yaml(".nan", "f"))


def test_untyped_reading_keeps_the_text_as_written() -> None:
    assert parse_yaml("a: 0123\nb: true\nc: 1e3\nd: ~\ne:\nf: '0x1'\n", "f", typed=False) == {
        "a": "0123",
        "b": "true",
        "c": "1e3",
        "d": None,
        "e": None,
        "f": "0x1",
    }


def test_a_number_with_too_many_digits_is_a_config_error() -> None:
    assert "a number too long to read" in refusal("a: " + "9" * 5000 + "\n")
    assert parse_yaml("a: " + "9" * 5000 + "\n", "f", typed=False) == {"a": "9" * 5000}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\na: 2\n", "line 2: a key is repeated (duplicate key)"),
        ("? [a]\n: b\n", "line 1: a key must be a single value, not a list or mapping"),
        ("{[a]: b}\n", "line 1: a key must be a single value, not a list or mapping"),
        ("a: 1\n---\nb: 2\n", "line 2: holds more than one YAML document (a second '---')"),
        ("a: [1, 2\n", "line 2: not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ("a: b\n\tc: d\n", "line 2: not valid YAML: found character '\\t' that cannot start any token"),
        ("a: \x00\n", "line 1: holds a character YAML does not allow (U+0000)"),
    ],
)
def test_malformed_documents_name_the_source_and_line(text: str, problem: str) -> None:
    assert refusal(text) == f"f.yaml, {problem}"


def test_parser_messages_never_quote_document_text() -> None:
    message = refusal("a: !PLANTED-SECRET-1!x y\n")  # an undefined tag handle, quoted by PyYAML
    assert "PLANTED" not in message and "(text not shown)" in message
    assert "PLANTED" not in refusal("a: 'PLANTED-SECRET-2\n")
    assert "PLANTED" not in refusal('a: "PLANTED-SECRET-3\\q"\n')


def test_checks_run_as_each_key_and_value_is_read() -> None:
    seen: list[tuple[str, KeyPath, object]] = []

    def check_key(keys: KeyPath, line: int) -> None:
        seen.append(("key", keys, line))
        if keys == ("stop",):
            raise ConfigError("refused at the key")

    def check_value(keys: KeyPath, value: object, line: int) -> None:
        seen.append(("value", keys, value))

    text = "a: {b: [x, 1]}\nstop: here\n" + ALIAS_BOMB + "[unclosed\n"
    with pytest.raises(ConfigError, match="refused at the key"):
        parse_yaml(text, "f", check_key=check_key, check_value=check_value)
    assert seen == [
        ("key", ("a",), 1),
        ("key", ("a", "b"), 1),
        ("value", ("a", "b", 0), "x"),
        ("value", ("a", "b", 1), 1),
        ("key", ("stop",), 2),
    ]  # the alias bomb and the syntax error after the refused key are never reached


# --- files ---------------------------------------------------------------------------------------------


def test_a_file_is_read_no_further_than_the_cap(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(10 * 1024**3)  # 10 GB, sparse: reading it all would exhaust memory
    with pytest.raises(ConfigError, match=r"huge\.yaml: the file is over 1,000 bytes"):
        read_yaml_file(huge, str(huge), limits=YamlLimits(max_bytes=1_000))
    assert peak_bytes(lambda: read_yaml_file(huge, "h", limits=YamlLimits(max_bytes=1_000))) < 1_000_000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_yaml_file(fifo, "pipe.yaml")


def test_non_utf8_and_unreadable_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("a: 1\nb: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin\.yaml, line 2: not UTF-8 text"):
        read_yaml_file(latin, "latin.yaml")
    with pytest.raises(ConfigError, match="cannot be read"):
        read_yaml_file(tmp_path / "absent.yaml", "absent.yaml")
    with pytest.raises(ConfigError, match="not a regular file"):
        read_yaml_file(tmp_path, "a directory")


# --- writing -------------------------------------------------------------------------------------------

TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@given(
    st.dictionaries(
        TEXTS, st.one_of(TEXTS, st.booleans(), st.none(), st.integers(-(10**6), 10**6)), max_size=6
    )
)
def test_what_safe_dump_writes_reads_back_the_same(document: dict[str, Any]) -> None:
    assert parse_yaml(safe_dump(document), "f") == document


def iter_ambiguous_texts() -> Iterator[str]:
    yield from ("0o17", "1e5", "+3", "0123", "1_000", "Yes", "no", "null", "~", "true", ".inf", "12:30")


@pytest.mark.parametrize("text", list(iter_ambiguous_texts()))
def test_text_that_reads_as_another_type_is_quoted_when_written(text: str) -> None:
    assert parse_yaml(safe_dump({"label": text}), "f") == {"label": text}
