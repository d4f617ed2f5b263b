"""Graph delta query on list items (microsoft-apis.md §2.5): pages, deltaLink, deletes, token=latest, 410 resync.

A token is opaque and signed. It names the list's delta epoch (bumped to expire tokens), the change-log
position the enumeration starts after (-1 = full enumeration), the position it runs up to, and how far
this enumeration has got (an item id for full enumerations, an offset into the changes otherwise).
"""

from __future__ import annotations

from emulator.core.http import Request, Response, ServiceError
from emulator.graph.fragments import ItemRenderer
from emulator.graph.query import QueryLimits
from emulator.graph.responses import collection, link, sign, unsign
from emulator.graph.serialise import deleted_item_json, dumps
from emulator.lists.store import Item, SpList

RESYNC_MESSAGE = (
    "Resync required. Replace any local items with the server's version (including deletes) if you're sure "
    "that the service was up to date with your local changes when you last sync'd. Upload any local changes "
    "that the server doesn't know about."
)


def _token(epoch: int, start: int, end: int, position: int) -> str:
    return sign(f"delta:{epoch}:{start}:{end}:{position}")


def _read_token(raw: str) -> tuple[int, int, int, int] | None:
    text = unsign(raw)
    if text is None or not text.startswith("delta:"):
        return None
    epoch, start, end, position = (int(part) for part in text.split(":")[1:5])
    return epoch, start, end, position


class DeltaEndpoint:
    """`.../lists/{list}/items/delta` of one Graph service.

    `repeat_changed_items`: the feed shows each item's latest state, but "the same item might appear more
    than once ... for various reasons" (listitem-delta.md); when on (the default) an item changed k times
    since the token appears k times, each with its latest state, so clients must keep the last occurrence.
    """

    def __init__(
        self, renderer: ItemRenderer, limits: QueryLimits, *, repeat_changed_items: bool = True
    ) -> None:
        self.renderer, self.limits = renderer, limits
        self.repeat_changed_items = repeat_changed_items

    def delta(self, request: Request, sp_list: SpList) -> Response:
        query = self.limits.parse(request, sp_list)
        raw = request.param("token")
        now_seq = sp_list.current_seq
        if raw == "latest":
            return _page(
                request, sp_list, [], {"@odata.deltaLink": _link(request, sp_list.delta_epoch, now_seq)}
            )
        if raw in (None, ""):
            epoch, start, end, position = sp_list.delta_epoch, -1, now_seq, 0
        else:
            parsed = _read_token(raw)
            if parsed is None:
                raise ServiceError(400, "invalidRequest", "The delta token is not valid.")
            epoch, start, end, position = parsed
            if epoch != sp_list.delta_epoch:
                restart = _token(sp_list.delta_epoch, -1, now_seq, 0)
                location = link(request, {"token": restart}, drop=("$skiptoken",))
                raise ServiceError(
                    410, "resyncChangesApplyDifferences", RESYNC_MESSAGE, {"Location": location}
                )
            if start == end and position == 0:  # a deltaLink: changes since `end`, up to now
                start, end = end, now_seq
        if start < 0:
            window, next_position, more = _enumerate(sp_list, position, query.top)
        else:
            changed = (
                list(sp_list.change_log[start:end])
                if self.repeat_changed_items
                else sp_list.changed_since(start, end)
            )
            window, next_position, more = _changes(sp_list, changed, position, query.top)
        current = [item for _, item in window if item is not None]
        rendered = iter(self.renderer.fragments(current, sp_list, query, delta=True))
        values = [
            next(rendered) if item is not None else dumps(deleted_item_json(item_id, sp_list))
            for item_id, item in window
        ]
        if more:
            links = {"@odata.nextLink": link(request, {"token": _token(epoch, start, end, next_position)})}
        else:
            links = {"@odata.deltaLink": _link(request, epoch, end)}
        return _page(request, sp_list, values, links)


def _link(request: Request, epoch: int, seq: int) -> str:
    return link(request, {"token": _token(epoch, seq, seq, 0)}, drop=("$skiptoken",))


def _page(request: Request, sp_list: SpList, values: list[bytes], links: dict[str, str]) -> Response:
    context = f"{request.base_url}/v1.0/$metadata#Collection(listItem)"
    return collection(context, values, links)


Window = list[tuple[str, Item | None]]  # (item id, current item or None when deleted)


def _enumerate(sp_list: SpList, after_id: int, top: int) -> tuple[Window, int, bool]:
    window: Window = []
    for item in sp_list.iter_from(after_id):
        if len(window) == top:
            return window, int(window[-1][0]), True
        window.append((item.id, item))
    return window, 0, False


def _changes(sp_list: SpList, changed: list[int], offset: int, top: int) -> tuple[Window, int, bool]:
    """The changed item ids from `offset` on, each with its current state (None when deleted)."""
    window: Window = [
        (str(item_id), sp_list.item(str(item_id))) for item_id in changed[offset : offset + top]
    ]
    return window, offset + top, offset + top < len(changed)
