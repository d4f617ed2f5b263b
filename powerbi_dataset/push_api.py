"""What publishing needs of the Power BI client and of the publish state, as Protocols.

connectors/powerbi.py `PowerBIClient` and connectors/publish_state.py `PublishState` satisfy them; the
model package never imports connectors (they import the model), and tests may hand in what they like.
The client methods are the contract's (ISSUE9-CONTRACT.md), those publishing calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import pandas as pd


class DatasetLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def add_rows_api_enabled(self) -> bool: ...


class TableLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def columns(self) -> Sequence[Mapping[str, Any]]: ...


class PushClient(Protocol):
    """The push-dataset half of connectors/powerbi.PowerBIClient."""

    def datasets(self) -> Sequence[DatasetLike]: ...

    def create_dataset(
        self, definition: Mapping[str, Any], *, retention: Literal["None", "basicFIFO"] = "None"
    ) -> DatasetLike: ...

    def delete_dataset(self, dataset_id: str) -> None: ...

    def tables(self, dataset_id: str) -> Sequence[TableLike]: ...

    def put_table(self, dataset_id: str, table: Mapping[str, Any]) -> None: ...

    def post_rows(self, dataset_id: str, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """At most 10,000 rows; a 429 is resent after Retry-After; a timeout, dropped connection or 5xx
        raises errors.AmbiguousWriteError and is never resent."""

    def delete_rows(self, dataset_id: str, table: str) -> None: ...


class TableRecord(Protocol):
    @property
    def definition(self) -> str | None: ...

    @property
    def stored_rows(self) -> int: ...

    @property
    def unknown(self) -> bool: ...

    @property
    def needs_reload(self) -> bool: ...


class LoadLike(Protocol):
    @property
    def load_seq(self) -> int: ...

    @property
    def load_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def full_tables(self) -> tuple[str, ...]: ...


class RecordedInputsLike(Protocol):
    """The recorded digest of what the published tables were built from (connectors/publish_ledger.py)."""

    @property
    def digest(self) -> str: ...

    @property
    def dataset_id(self) -> str: ...

    @property
    def load_id(self) -> str | None: ...


class PublishStore(Protocol):
    """The crash-safe record of what the dataset holds (connectors/publish_state.PublishState)."""

    def dataset(self) -> tuple[str, str] | None: ...

    def relationships(self) -> str | None: ...

    def tables(self) -> Mapping[str, TableRecord]: ...

    def versions(self, table: str) -> pd.DataFrame: ...

    def loads(self, *statuses: str) -> Sequence[LoadLike]: ...

    def last_load_seq(self) -> int: ...

    def load_keys(self, load_seq: int) -> Mapping[str, frozenset[str]]: ...

    def recent_posts(self, now: float) -> Sequence[tuple[float, int]]: ...

    def bind(
        self,
        dataset_id: str,
        name: str,
        definitions: Mapping[str, str],
        relationships: str,
        *,
        empty: bool,
        unknown_rows: int = 0,
    ) -> None: ...

    def set_definition(self, table: str, definition: str) -> None: ...

    def deleting_rows(self, table: str) -> None: ...

    def settle(self, now_utc: str) -> Sequence[LoadLike]: ...

    def settled(self) -> bool: ...

    def published_inputs(self) -> RecordedInputsLike | None: ...

    def record_published_inputs(self, digest: str, dataset_id: str) -> bool: ...

    def begin_load(
        self,
        load_seq: int,
        load_id: str,
        dataset_id: str,
        started_utc: str,
        *,
        full_tables: tuple[str, ...],
        reload_tables: tuple[str, ...],
        resolves: tuple[int, ...],
        rows_planned: int,
        versions: Mapping[str, pd.DataFrame],
    ) -> None: ...

    def chunk_sent(self, load_seq: int, table: str, chunk: int, rows: int, at: float) -> None: ...

    def chunk_acked(self, load_seq: int, table: str, chunk: int, rows: int, at: float) -> None: ...

    def chunk_ambiguous(self, load_seq: int, table: str, chunk: int, at: float) -> None: ...

    def abandon(self, load_seq: int, reason: str, now_utc: str) -> None: ...

    def committing(self, load_seq: int) -> None: ...

    def uncertain(self, load_seq: int, reason: str, now_utc: str) -> None: ...

    def committed(self, load_seq: int, now_utc: str) -> None: ...

    def close(self) -> None: ...
