"""What normalising one list means, worked out once from its mapping and the model: targets and treatments.

Every mapped, non-ignored column gets a home table (the list's table or a bridge), its canonical
target column(s) and a treatment saying how personal data is handled before anything is written:
officer keys and citizen keys are keyed HMAC pseudonyms, demographic answers are gated by the consent
flag the model's rules name, free text is scrubbed, and a personal column cetk can neither pseudonymise
nor gate is refused (a ConfigError) before any value is read. Ignored columns are not in the plan, so
their values are never read at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from errors import ConfigError
from powerbi_dataset.rules import RequireEmpty
from powerbi_dataset.schema import Column, Dataset, Table
from transforms.list_mapping import ColumnMapping, ListMapping
from transforms.mapping_targets import find_column, find_table, officer_key_columns
from transforms.sharepoint_fields import MULTI_TYPES, SharePointType

__all__ = ["CITIZEN_KEY", "ColumnPlan", "Gate", "ListPlan", "Treatment", "plan_list"]

CITIZEN_KEY = "citizen_key"  # model.py: HMAC of a contact detail, computed at ingest, never the detail
FREE_TEXT_TYPES: frozenset[SharePointType] = frozenset({"text", "note"})
Treatment = Literal["plain", "officer", "citizen", "gated", "scrub"]
HINT = "run `cetk check` and correct the list mapping (docs/mapping.md)"


@dataclass(frozen=True)
class Gate:
    """Columns kept only where a Boolean consent column is true (a RequireEmpty rule of the model)."""

    consent: str
    columns: tuple[str, ...]
    rule: str


@dataclass(frozen=True)
class ColumnPlan:
    mapping: ColumnMapping
    kind: SharePointType
    home: Table  # the list's table, or the bridge for a multi-valued column
    targets: tuple[Column, ...]
    treatment: Treatment
    rank: Column | None = None

    @property
    def name(self) -> str:
        return self.mapping.name


@dataclass(frozen=True)
class ListPlan:
    mapping: ListMapping
    table: Table
    columns: tuple[ColumnPlan, ...]  # single-valued columns, into `table`
    bridges: tuple[ColumnPlan, ...]  # multi-valued columns, one bridge table each
    gates: tuple[Gate, ...]
    officer_keys: frozenset[tuple[str, str]]  # (table, column) pairs holding officer keys

    @property
    def key_column(self) -> ColumnPlan | None:
        """The mapped column that feeds the table's key, if any (else the key is built from the item)."""
        return next((plan for plan in self.columns if plan.targets[0].name == self.mapping.key), None)


def plan_list(mapping: ListMapping, dataset: Dataset) -> ListPlan:
    """The plan for one list; a ConfigError when the mapping points outside the model or at personal
    data that cannot be protected."""
    where = f"list '{mapping.display_name}'"
    table = find_table(dataset, mapping.table)
    if table is None:
        raise ConfigError(f"{where}: table '{mapping.table}' is not in the model", hint=HINT)
    gates = _gates(table)
    officer_keys = officer_key_columns(dataset)
    columns: list[ColumnPlan] = []
    bridges: list[ColumnPlan] = []
    for column in mapping.columns:
        if column.is_ignored:
            continue
        plan = _column_plan(column, table, dataset, gates, officer_keys, where)
        (bridges if plan.home is not table else columns).append(plan)
    for name, target in mapping.built_ins.items():
        if find_column(table, target) is None:
            raise ConfigError(
                f"{where}: built-in '{name}' feeds '{target}', not a column of '{table.name}'", hint=HINT
            )
    return ListPlan(mapping, table, tuple(columns), tuple(bridges), gates, officer_keys)


def _gates(table: Table) -> tuple[Gate, ...]:
    """The model's consent gates: `when <Boolean> ≠ true, <personal columns> must be empty`."""
    found = []
    for rule in table.rules:
        if not isinstance(rule, RequireEmpty) or rule.when.op != "ne" or rule.when.value is not True:
            continue
        consent = find_column(table, rule.when.column)
        gated = [find_column(table, name) for name in rule.columns]
        if (
            consent is not None
            and consent.kind == "Boolean"
            and all(c is not None and c.personal != "none" for c in gated)
        ):
            found.append(Gate(consent.name, rule.columns, rule.code))
    return tuple(found)


def _column_plan(
    column: ColumnMapping,
    table: Table,
    dataset: Dataset,
    gates: tuple[Gate, ...],
    officer_keys: frozenset[tuple[str, str]],
    list_where: str,
) -> ColumnPlan:
    where = f"{list_where}, column '{column.name}'"
    if column.type is None or not column.to:
        raise ConfigError(f"{where}: needs a type and a target", hint=HINT)
    kind = column.type
    home = table
    if kind in MULTI_TYPES:
        bridge = find_table(dataset, column.bridge or "")
        if bridge is None:
            raise ConfigError(f"{where}: a {kind} column needs a bridge table of the model", hint=HINT)
        home = bridge
    targets = []
    for name in column.to:
        target = find_column(home, name)
        if target is None:
            raise ConfigError(f"{where}: '{name}' is not a column of '{home.name}'", hint=HINT)
        targets.append(target)
    rank = find_column(home, column.rank) if column.rank else None
    if column.rank and rank is None:
        raise ConfigError(f"{where}: rank '{column.rank}' is not a column of '{home.name}'", hint=HINT)
    treatment = _treatment(kind, home, targets[0], gates, officer_keys, where)
    return ColumnPlan(column, kind, home, tuple(targets), treatment, rank)


def _treatment(
    kind: SharePointType,
    home: Table,
    target: Column,
    gates: tuple[Gate, ...],
    officer_keys: frozenset[tuple[str, str]],
    where: str,
) -> Treatment:
    if (home.name, target.name) in officer_keys:
        if kind in ("person", "multiperson", "text"):
            return "officer"
        raise ConfigError(
            f"{where}: {home.name}.{target.name} holds officer keys; feed it from a person column or a staff number",
            hint=HINT,
        )
    if target.personal != "none":
        if target.name == CITIZEN_KEY and kind in FREE_TEXT_TYPES:
            return "citizen"
        if any(target.name in gate.columns for gate in gates):
            return "gated"
        raise ConfigError(
            f"{where}: {home.name}.{target.name} is personal data that cetk can neither pseudonymise nor "
            "gate by consent, so it is never read",
            hint="map the column with `ignore:` and the reason",
        )
    if (
        kind in FREE_TEXT_TYPES
        and target.kind == "String"
        and not target.codes
        and not target.pattern
        and (target.name,) != home.key
    ):
        return "scrub"
    return "plain"
