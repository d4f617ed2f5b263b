"""In-memory SharePoint sites, lists and items behind the emulated Graph and SharePoint REST services.

Items are kept in id order in one slot array per list (a deleted item leaves an empty slot), values as
a tuple aligned with the list's columns, and every write appends to a per-list change log for delta.
Column types, value classes and the per-value check live in emulator.lists.values and are re-exported here.
"""

from __future__ import annotations

import threading
import uuid
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from emulator.core.clock import Clock
from emulator.lists.grants import SiteGrants
from emulator.lists.values import (
    LOOKUP_TYPES,
    MULTI_TYPES,
    THRESHOLD_TYPES,
    ColumnType,
    Hyperlink,
    ListColumn,
    Location,
    Lookup,
    Person,
    Term,
    check_value,
    utc,
)

__all__ = [
    "LOOKUP_TYPES", "MULTI_TYPES", "SYSTEM_ACCOUNT", "THRESHOLD_TYPES", "TITLE_COLUMN", "ColumnType", "Hyperlink", "Item",
    "ListColumn", "ListStore", "Location", "Lookup", "Person", "Site", "SpList", "StoreNotFound", "Term",
]  # fmt: skip


class StoreNotFound(LookupError):
    """A site, list or item that the store does not hold."""


# SharePoint's built-in "SHAREPOINT\system" account (user id 1073741823) writes when no author is given.
SYSTEM_ACCOUNT = Person(1073741823, "System Account", "")
TITLE_COLUMN = ListColumn("Title", "Title", "text", max_length=255)


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    unique_id: str
    version: int
    names: tuple[str, ...]  # shared with the list: column names aligned with `values`
    values: tuple[object, ...]
    created: datetime
    modified: datetime
    author: Person
    editor: Person

    @property
    def etag(self) -> str:
        """The Graph entity tag, quotes included: `"{GUID},{version}"`."""
        return f'"{self.unique_id},{self.version}"'

    @property
    def fields(self) -> dict[str, object]:
        return {name: value for name, value in zip(self.names, self.values, strict=True) if value is not None}

    @property
    def int_id(self) -> int:
        return int(self.id)


@dataclass(frozen=True)
class Site:
    id: str  # "{hostname},{siteCollectionGuid},{webGuid}"
    path: str  # server-relative, e.g. "/sites/Neighbourhood"
    display_name: str
    hostname: str
    created: datetime

    @property
    def web_url(self) -> str:
        return f"https://{self.hostname}{self.path}"


@dataclass(eq=False)
class SpList:
    id: str
    display_name: str
    name: str
    columns: tuple[ListColumn, ...]
    site: Site
    created: datetime
    modified: datetime
    slots: list[Item | None] = field(default_factory=list, repr=False)  # index = item id - 1
    change_log: array[int] = field(default_factory=lambda: array("q"), repr=False)  # seq - 1 -> item id
    live_count: int = 0
    delta_epoch: int = 0  # bumped to expire every delta token issued before
    builtin_indexes: frozenset[str] = frozenset(
        {"ID"}
    )  # built-ins SharePoint indexes (add Modified, Created)

    def __post_init__(self) -> None:
        self.names: tuple[str, ...] = tuple(column.name for column in self.columns)
        self.by_name: dict[str, ListColumn] = {column.name: column for column in self.columns}
        self.positions: dict[str, int] = {column.name: index for index, column in enumerate(self.columns)}

    @property
    def current_seq(self) -> int:
        return len(self.change_log)

    def item(self, item_id: str) -> Item | None:
        try:
            index = int(item_id) - 1
        except ValueError:
            return None
        return self.slots[index] if 0 <= index < len(self.slots) else None

    def iter_from(self, after_id: int) -> Iterator[Item]:
        """Current items with id > after_id, in id order."""
        for index in range(max(after_id, 0), len(self.slots)):
            found = self.slots[index]
            if found is not None:
                yield found

    def changed_since(self, seq: int, upto: int) -> list[int]:
        """Ids changed in (seq, upto], each once, ordered by its last change."""
        last: dict[int, None] = {}
        for item_id in self.change_log[seq:upto]:
            last.pop(item_id, None)
            last[item_id] = None
        return list(last)


class ListStore:
    def __init__(
        self, clock: Clock, *, hostname: str = "contoso.sharepoint.com", site_timezone: str = "Europe/London"
    ) -> None:
        self.clock = clock
        self.hostname = hostname
        self.site_timezone = ZoneInfo(site_timezone)
        self._sites: dict[str, Site] = {}  # lower-cased path -> site
        self._lists: dict[str, list[SpList]] = {}  # site id -> lists
        self._lock = threading.RLock()
        self.people: dict[int, Person] = {
            SYSTEM_ACCOUNT.lookup_id: SYSTEM_ACCOUNT
        }  # lookup id -> person seen
        self.grants = SiteGrants()  # per-site grants for Sites.Selected apps

    # sites and lists

    def create_site(self, path: str, display_name: str) -> Site:
        path = "/" + path.strip("/")
        site = Site(
            f"{self.hostname},{uuid.uuid4()},{uuid.uuid4()}",
            path,
            display_name,
            self.hostname,
            self.clock.now(),
        )
        with self._lock:
            if path.lower() in self._sites:
                raise ValueError(f"site {path} already exists")
            self._sites[path.lower()] = site
            self._lists[site.id] = []
        return site

    def site_by_path(self, path: str) -> Site:
        found = self._sites.get("/" + path.strip("/").lower())
        if found is None:
            raise StoreNotFound(f"site {path}")
        return found

    def site_by_id(self, site_id: str) -> Site:
        wanted = site_id.lower()
        for site in self._sites.values():
            if site.id.lower() == wanted:
                return site
        raise StoreNotFound(f"site {site_id}")

    def sites(self) -> list[Site]:
        return list(self._sites.values())

    def create_list(
        self, site: Site, display_name: str, columns: Sequence[ListColumn], *, name: str | None = None
    ) -> SpList:
        """Create a generic list; a Title column is added unless `columns` declares one."""
        all_columns = tuple(columns) if any(c.name == "Title" for c in columns) else (TITLE_COLUMN, *columns)
        if len({column.name for column in all_columns}) != len(all_columns):
            raise ValueError(f"duplicate column names in list {display_name}")
        now = self.clock.now()
        url_name = name or display_name.replace(" ", "")
        sp_list = SpList(str(uuid.uuid4()), display_name, url_name, all_columns, site, now, now)
        with self._lock:
            if any(
                existing.display_name.lower() == display_name.lower() for existing in self._lists[site.id]
            ):
                raise ValueError(f"list {display_name} already exists in {site.path}")
            self._lists[site.id].append(sp_list)
        return sp_list

    def lists(self, site: Site) -> list[SpList]:
        return list(self._lists[site.id])

    def get_list(self, site: Site, id_or_display_name: str) -> SpList:
        wanted = id_or_display_name.strip().lower()
        for sp_list in self._lists.get(site.id, []):
            if wanted in (sp_list.id, sp_list.display_name.lower(), sp_list.name.lower()):
                return sp_list
        raise StoreNotFound(f"list {id_or_display_name} in {site.path}")

    def lookup_target(self, sp_list: SpList, column: ListColumn) -> SpList | None:
        return self.get_list(sp_list.site, column.lookup_list) if column.lookup_list else None

    # items

    def add_item(
        self,
        sp_list: SpList,
        fields: Mapping[str, object],
        *,
        author: Person | None = None,
        created: datetime | None = None,
    ) -> Item:
        values = self._values(sp_list, fields, (None,) * len(sp_list.columns))
        when = utc(created) if created is not None else self.clock.now()
        who = author or SYSTEM_ACCOUNT
        self.people.setdefault(who.lookup_id, who)
        with self._lock:
            item_id = len(sp_list.slots) + 1
            item = Item(str(item_id), str(uuid.uuid4()), 1, sp_list.names, values, when, when, who, who)
            sp_list.slots.append(item)
            sp_list.change_log.append(item_id)
            sp_list.live_count += 1
            sp_list.modified = when
        return item

    def update_item(
        self, sp_list: SpList, item_id: str, fields: Mapping[str, object], *, editor: Person | None = None
    ) -> Item:
        with self._lock:
            current = self._require(sp_list, item_id)
            values = self._values(sp_list, fields, current.values)
            now = self.clock.now()
            item = Item(
                current.id, current.unique_id, current.version + 1, sp_list.names, values,
                current.created, now, current.author, editor or SYSTEM_ACCOUNT,
            )  # fmt: skip
            sp_list.slots[current.int_id - 1] = item
            sp_list.change_log.append(current.int_id)
            sp_list.modified = now
        return item

    def delete_item(self, sp_list: SpList, item_id: str) -> None:
        with self._lock:
            current = self._require(sp_list, item_id)
            sp_list.slots[current.int_id - 1] = None
            sp_list.change_log.append(current.int_id)
            sp_list.live_count -= 1
            sp_list.modified = self.clock.now()

    def get_item(self, sp_list: SpList, item_id: str) -> Item:
        return self._require(sp_list, item_id)

    def items(self, sp_list: SpList) -> list[Item]:
        return [item for item in sp_list.slots if item is not None]

    def expire_delta_tokens(self, sp_list: SpList) -> None:
        """Make every delta token issued so far for this list answer 410 Gone."""
        with self._lock:
            sp_list.delta_epoch += 1

    def _require(self, sp_list: SpList, item_id: str) -> Item:
        found = sp_list.item(item_id)
        if found is None:
            raise StoreNotFound(f"item {item_id} in list {sp_list.display_name}")
        return found

    def _values(
        self, sp_list: SpList, fields: Mapping[str, object], base: tuple[object, ...]
    ) -> tuple[object, ...]:
        values = list(base)
        for key, value in fields.items():
            position = sp_list.positions.get(key)
            if position is None:
                raise ValueError(f"list {sp_list.display_name} has no column {key!r}")
            column = sp_list.columns[position]
            values[position] = checked = check_value(column, value)
            if column.type == "person" and isinstance(checked, Person):
                self.people.setdefault(checked.lookup_id, checked)
            elif column.type == "multiperson" and isinstance(checked, tuple):
                for person in checked:
                    self.people.setdefault(person.lookup_id, person)
        return tuple(values)
