"""Assemble the emulator with every service: sign-in, Power BI, Graph lists and SharePoint REST.

All four share one clock and one token authority; Graph and SharePoint share one list store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from emulator.core.app import Emulator, FaultInjector, NoFaults, Service
from emulator.core.clock import Clock, SystemClock
from emulator.core.request_log import DEFAULT_LOG_LIMIT
from emulator.core.tokens import DEFAULT_LIFETIME_SECONDS, TokenAuthority
from emulator.graph.service import DEFAULT_PAGE_SIZE as GRAPH_DEFAULT_PAGE_SIZE
from emulator.graph.service import LOOKUP_COLUMN_THRESHOLD, GraphService
from emulator.graph.service import MAX_PAGE_SIZE as GRAPH_MAX_PAGE_SIZE
from emulator.lists.store import ListStore
from emulator.login.service import LoginService
from emulator.powerbi.model import PowerBIOptions
from emulator.powerbi.service import PowerBIService
from emulator.sharepoint.query import LIST_VIEW_THRESHOLD, TopPolicy
from emulator.sharepoint.service import DEFAULT_PAGE_SIZE as SHAREPOINT_DEFAULT_PAGE_SIZE
from emulator.sharepoint.service import SharePointService


@dataclass(frozen=True)
class EmulatorOptions:
    sharepoint_hostname: str = "contoso.sharepoint.com"
    token_lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS
    device_code_lifetime_seconds: int = 900
    device_poll_interval_seconds: int = 5
    require_auth: bool = True  # False lets clients in auth mode `none` call Graph, SharePoint and Power BI
    graph_default_page_size: int = (
        GRAPH_DEFAULT_PAGE_SIZE  # $top default 200 (UNCONFIRMED, community reports)
    )
    graph_max_page_size: int = GRAPH_MAX_PAGE_SIZE  # $top cap 5,000 (UNCONFIRMED)
    lookup_threshold: int = LOOKUP_COLUMN_THRESHOLD  # lookup columns per multi-item read (UNCONFIRMED: 12)
    graph_delta_repeats_changed_items: bool = True  # an item changed k times shows k times in a delta feed
    sharepoint_default_page_size: int = SHAREPOINT_DEFAULT_PAGE_SIZE
    sharepoint_list_view_threshold: int = LIST_VIEW_THRESHOLD  # a larger REST $top is SharePoint's 500
    sharepoint_top_policy: TopPolicy = (
        "always"  # or "large-lists": refuse only above the threshold (UNCONFIRMED)
    )
    powerbi: PowerBIOptions = field(default_factory=PowerBIOptions)
    request_log_limit: int = DEFAULT_LOG_LIMIT  # records kept; older ones are counted in dropped_records


@dataclass
class EmulatorStack:
    """The emulator and the parts tests and the demo reach into."""

    emulator: Emulator
    tokens: TokenAuthority
    login: LoginService
    powerbi: PowerBIService
    store: ListStore
    graph: GraphService
    sharepoint: SharePointService

    def service(self, name: str) -> Service:
        return self.emulator.service(name)


def build_emulator(
    *, clock: Clock | None = None, faults: FaultInjector | None = None, options: EmulatorOptions | None = None
) -> EmulatorStack:
    """An Emulator with every service mounted, one shared token authority and one list store."""
    options = options or EmulatorOptions()
    clock = clock or SystemClock()
    emulator = Emulator(clock=clock, faults=faults or NoFaults(), log_limit=options.request_log_limit)
    tokens = TokenAuthority(clock)
    login = LoginService(
        tokens,
        clock,
        token_lifetime_seconds=options.token_lifetime_seconds,
        device_code_lifetime_seconds=options.device_code_lifetime_seconds,
        device_poll_interval_seconds=options.device_poll_interval_seconds,
    )
    powerbi_options = options.powerbi
    if not options.require_auth:
        powerbi_options = dataclasses.replace(powerbi_options, require_auth=False)
    powerbi = PowerBIService(tokens, clock, powerbi_options)
    store = ListStore(clock, hostname=options.sharepoint_hostname)
    graph = GraphService(
        store,
        tokens,
        dispatcher=emulator,
        require_auth=options.require_auth,
        default_page_size=options.graph_default_page_size,
        max_page_size=options.graph_max_page_size,
        lookup_threshold=options.lookup_threshold,
        delta_repeats_changed_items=options.graph_delta_repeats_changed_items,
    )
    sharepoint = SharePointService(
        store,
        tokens,
        require_auth=options.require_auth,
        default_page_size=options.sharepoint_default_page_size,
        lookup_threshold=options.lookup_threshold,
        list_view_threshold=options.sharepoint_list_view_threshold,
        top_policy=options.sharepoint_top_policy,
    )
    for service in (login, powerbi, graph, sharepoint):
        emulator.mount(service)
    return EmulatorStack(emulator, tokens, login, powerbi, store, graph, sharepoint)
