"""`pipeline.sync` and secrets, end to end: a client secret in the environment with DEBUG logging and a
forced 401 (S1), and a token cache others can read (S3)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from connectors.auth import TOKEN_CACHE_FILE, SignIn, sign_in_config_from_settings
from emulator.demo.force import generate_force
from emulator.testing import DEFAULT_TENANT
from pipeline.sync import EXIT_FAILED
from tests.connectors.conftest import CLIENT_ID, ManualTime
from tests.connectors.test_redaction import JWT, SECRET
from tests.sync_world import demo_world, every_file, text_of


def test_s1_the_client_secret_never_reaches_a_log_line_error_report_or_quarantine_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """S1: SUPERSECRET-123 in CETK_CLIENT_SECRET, DEBUG logging, and a 401 from Graph (its token expired on
    Graph's clock while MSAL still offers it): the run fails cleanly (exit 2) and the secret, and any token,
    is absent from the log, the error, the run reports and the staged and quarantine files."""
    caplog.set_level(logging.DEBUG)
    force = generate_force(seed=16, events=40, ccrs=60, officers=20)  # with errors: quarantine files exist
    clock = ManualTime()
    auth = {"mode": "client_secret"}
    with demo_world(force, tmp_path / "run", clock, https_dir=tmp_path / "tls", environ={"CETK_CLIENT_SECRET": SECRET},
                    tenant_id=DEFAULT_TENANT, client_id=CLIENT_ID, auth=auth) as world:  # fmt: skip
        world.emu.login.register_app(CLIENT_ID, secret=SECRET, roles={"graph": ["Sites.Read.All"]})
        world.emu.stack.store.grants.grant(world.tenant.site.id, CLIENT_ID, ["read"])
        sign_in = SignIn(
            sign_in_config_from_settings(world.settings), sleep=world.waits, clock=world.clock.time
        )
        first = world.run(sign_in=sign_in)
        world.clock.advance(3_700)  # past the token's expiry at Graph; MSAL's cache (real time) still has it

        refused = world.run(sign_in=sign_in)  # one process, two runs: the cached token is offered

    assert first.exit_code in (0, 1) and "SUPERSECRET" not in repr(first.report)
    assert refused.exit_code == EXIT_FAILED and refused.error is not None
    assert refused.report["error"]["code"] == "AuthError"
    said = [caplog.text, str(refused.error), repr(refused.error), refused.error.hint]
    paths = world.settings.paths
    said += [text_of(path) for path in every_file(paths.staging_dir, paths.quarantine_dir, paths.state_dir)
             if path.suffix in {".json", ".csv", ".parquet"}]  # fmt: skip
    text = "\n".join(said)
    assert "GET " in caplog.text  # DEBUG logging was on
    assert SECRET not in text and not JWT.search(text)


def test_s3_a_token_cache_others_can_read_stops_the_run_before_any_request(tmp_path: Path) -> None:
    """S3: with device-code sign-in, a token cache readable by the group or others is refused at start-up
    (exit 2, naming the file); no list is read. (The cache cetk writes is 0600: tests/connectors/test_auth.py.)"""
    force = generate_force(seed=17, events=20, ccrs=20, officers=10, invalid_fraction=0)
    state = tmp_path / "run" / "staging" / "state"
    state.mkdir(parents=True)
    cache = state / TOKEN_CACHE_FILE
    cache.write_text("{}", encoding="utf-8")
    cache.chmod(0o644)
    with demo_world(force, tmp_path / "run", ManualTime(), tenant_id=DEFAULT_TENANT, client_id=CLIENT_ID,
                    auth={"mode": "device_code"}, authority="https://login.microsoftonline.com") as world:  # fmt: skip
        refused = world.run()

    assert refused.exit_code == EXIT_FAILED and refused.error is not None
    assert str(cache) in refused.error.message
    assert world.last_requests() == []
    assert "0600" in refused.error.hint or "chmod" in refused.error.hint
