"""`cetk emulator serve`: run the local stand-in for Entra ID, Graph lists, SharePoint REST and Power BI."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from cli.output import print_json, print_text, progress
from emulator.serve import DemoEnvironment, ServeOptions, serving

emulator_app = typer.Typer(
    help="The local Microsoft emulator: rehearse syncs, migrations and publishing with no tenant.",
    no_args_is_help=True,
)


@emulator_app.command("serve")
def serve(
    port: Annotated[
        int, typer.Option("--port", help="Port on the loopback interface (0 = any free port).")
    ] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Loopback address to bind: 127.0.0.1, ::1 or localhost.")
    ] = ("127.0.0.1"),
    https: Annotated[
        bool,
        typer.Option(
            "--https", help="Serve HTTPS with a generated CA, and require sign-in (MSAL needs https)."
        ),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the demo force; the same seed gives the same data.")
    ] = 7,
    events: Annotated[int, typer.Option("--events", min=1, help="Engagement events to generate.")] = 2000,
    ccrs: Annotated[
        int, typer.Option("--ccrs", min=1, help="Community contact records to generate.")
    ] = 10000,
    latency_ms: Annotated[
        int, typer.Option("--latency-ms", min=0, help="Latency added to every request.")
    ] = 0,
    faults: Annotated[
        Path | None, typer.Option("--faults", exists=True, dir_okay=False, help="Fault plan (YAML or JSON).")
    ] = None,
    state_dir: Annotated[
        Path,
        typer.Option("--state-dir", help="Where the CA, app credential, Forms exports and cetk.yaml go."),
    ] = Path(".cetk-emulator"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the connection details as one JSON line.")
    ] = False,
) -> None:
    """Serve the emulator with a demo force loaded, until Ctrl-C.

    It writes STATE_DIR/cetk.yaml pointing every endpoint at the emulator (auth mode none over http;
    certificate sign-in with --https), legacy Forms exports under STATE_DIR/forms, and the CA file to
    trust with --https. Faults (429 with Retry-After, 503, dropped connections after commit, RU budgets)
    come from --faults; see docs/emulator.md.

    Example: cetk emulator serve --https --events 500 --ccrs 2000 --faults faults.yaml
    """
    options = ServeOptions(
        host=host,
        port=port,
        https=https,
        seed=seed,
        events=events,
        ccrs=ccrs,
        latency_ms=latency_ms,
        faults_file=faults,
        state_dir=state_dir,
    )
    progress(f"Generating the demo force ({events} events, {ccrs} CCRs) and starting the emulator")
    with serving(options) as (_server, _stack, environment):
        if as_json:
            print_json(environment.to_dict())
        else:
            print_text(describe(environment))
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            progress("Stopping the emulator")


def describe(environment: DemoEnvironment) -> str:
    lists = "\n".join(f"  {name}: {count} items" for name, count in environment.list_items.items())
    trust = f"\nTrust its CA: export REQUESTS_CA_BUNDLE={environment.ca_file}" if environment.ca_file else ""
    return (
        f"Emulator listening on {environment.base_url}\n"
        f"SharePoint site: {environment.site_url}\n{lists}\n"
        f"Power BI workspace: {environment.workspace_id}\n"
        f"Legacy Forms exports: {len(environment.forms_exports)} files\n"
        f"Client config: {environment.config_file}{trust}\n"
        f"Try: cetk --config {environment.config_file} config show\n"
        "Press Ctrl-C to stop."
    )
