"""`cetk migrate forms init`: read exports and propose a Forms mapping for a person to review.

Exports asking the same questions are taken as one form (a form exported twice, as .xlsx and .csv); each
form's questions are matched by transforms/forms_propose.py. The proposal is written only where asked
(`--out`, a private file, atomically); it never holds more of the answers than the choice maps need.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.forms_export import FormsExport, ReadOptions, read_export
from connectors.forms_values import Locale, parse_time_text
from powerbi_dataset.model import DATASET
from transforms.forms_mapping import FormMapping, FormsMapping, check_forms_mapping, dump_forms_mapping
from transforms.forms_propose import QuestionSample, propose_form

MAX_DISTINCT_ANSWERS = 200  # more distinct answers than this is free text: no choice map is proposed
_SLUG = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class FormsMappingProposal:
    mapping: FormsMapping
    text: str  # the mapping file
    forms: dict[str, list[str]]  # form id -> its export files
    review: tuple[str, ...]
    problems: tuple[str, ...]  # what check_forms_mapping still finds
    written_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"forms": self.forms, "review": list(self.review), "problems": list(self.problems),
                "written_to": self.written_to, "mapping": self.text}  # fmt: skip

    def describe(self) -> str:
        lines = [f"Proposed {len(self.forms)} form(s): " + ", ".join(self.forms)]
        lines += ["Review:", *(f"  {line}" for line in self.review)] if self.review else []
        lines += ["Still to fix:", *(f"  {line}" for line in self.problems)] if self.problems else []
        lines.append(f"Wrote {self.written_to}" if self.written_to else "")
        return "\n".join(line for line in lines if line)


def propose_forms_mapping(
    files: Sequence[Path],
    *,
    table: str = "ccr",
    locale: Locale | None = "en-GB",
    csv_time_locale: Locale | None = "en-US",
    out: Path | None = None,
) -> FormsMappingProposal:
    """Read the exports, group them by their questions, propose each form's mapping; write it to `out`."""
    groups: dict[tuple[str, ...], list[tuple[Path, FormsExport]]] = {}
    for path in files:
        options = ReadOptions(locale=csv_time_locale if path.suffix.lower() == ".csv" else locale)
        export = read_export(path, options)
        groups.setdefault(tuple(q.name for q in export.questions), []).append((path, export))
    model = DATASET.table(table)
    forms: list[FormMapping] = []
    review: list[str] = []
    listed: dict[str, list[str]] = {}
    for group in groups.values():
        names = [path.name for path, _export in group]
        prefix = os.path.commonprefix(names)
        form_id = _form_id(prefix or Path(names[0]).stem, len(forms))
        samples = _samples([export for _path, export in group], locale)
        form, lines = propose_form(form_id, f"{prefix}*" if prefix else names[0], samples, model, DATASET)
        forms.append(form)
        review += lines
        listed[form_id] = names
    mapping = FormsMapping(tuple(forms), source=str(out) if out else "forms/mapping.yaml")
    text = dump_forms_mapping(mapping)
    problems = tuple(
        f"{p.where}, {p.entry or 'the form'}: {p.message}" for p in check_forms_mapping(mapping, DATASET)
    )
    if out is not None:
        _write_private(out, text)
    return FormsMappingProposal(mapping, text, listed, tuple(review), problems, str(out) if out else None)


def _form_id(prefix: str, index: int) -> str:
    stem = Path(prefix).stem.lower().rstrip("_-.")
    stem = re.sub(r"[_-]?part$", "", stem)
    slug = _SLUG.sub("-", stem).strip("-_")[:60]
    return slug if slug and slug[0].isalnum() else f"form-{index + 1}"


def _samples(exports: Sequence[FormsExport], locale: Locale | None) -> list[QuestionSample]:
    samples = []
    for question in exports[0].questions:
        chunks = [chunk for export in exports for chunk in export.answers.column(question.name).chunks]
        column = (
            pa.chunked_array(chunks, type=chunks[0].type) if chunks else pa.chunked_array([], pa.string())
        )
        values = pc.list_flatten(column) if pa.types.is_list(column.type) else column
        text = pc.utf8_trim_whitespace(values.cast(pa.string()))
        distinct = [value for value in pc.unique(text.drop_null()).to_pylist() if value]
        is_dates = bool(distinct) and all(parse_time_text(v, locale).local for v in distinct[:50])
        answers = () if is_dates or len(distinct) > MAX_DISTINCT_ANSWERS else tuple(sorted(distinct))
        samples.append(QuestionSample(question.name, question.multi_select, answers, is_dates))
    return samples


def _write_private(path: Path, text: str) -> None:
    """Atomically, 0600: a reviewed mapping lists the forms' answer options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
