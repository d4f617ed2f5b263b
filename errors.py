"""The whole cetk exception tree, and the exit codes of every command (ExitCode, declared once).

The CLI turns any CetkError into an `Error:` and a `Hint:` line and exits with the error's `exit_code`:
2 (could not do the job) unless the class says otherwise (ValidationFailed: 1, data problems found).

```
CetkError               base; carries .hint and .exit_code; the CLI prints message + hint
├── ConfigError           a setting is missing or invalid (names the key and the env var to set)
│   └── SecretInConfigError  a config file holds a secret value (names the variable to use instead)
├── ModelError            the canonical model declaration breaks a rule or a service limit
├── ServiceAnswer         what a service said of a failed request (.status, .service_code, .request_id)
│   └── ConnectorError      an HTTP call failed after retries
│       ├── AuthError           401/403, or no token could be had
│       ├── NotFoundError       404 (names the site, list, dataset or table)
│       ├── ResyncRequiredError 410 Gone: a delta link expired (.restart_url from Location)
│       ├── ThrottledError      still 429/503 after retries (.retry_after_seconds)
│       └── AmbiguousWriteError a write timed out, lost its connection or got a 5xx: it MAY have been applied
├── SourceFormatError     an input file or list lacks the expected shape (names file, row, field)
├── ValidationFailed      carries the validation Report; exit 1 (the run finished, the data has problems)
├── PublishError          Power BI rejected the definition or the rows
│   ├── RequestRefusedError  Power BI refused a request as invalid (400/409/413/422); also a ServiceAnswer
│   └── DataRefusedError     a staged value may not be published (privacy, 4,000 characters): nothing was sent
├── RefreshError          a dataset refresh cannot be started (not refreshable, daily limit, capacity)
├── EmulatorError         the local emulator cannot start or was given a bad fault plan
├── StateError            the sync state cannot be trusted (corrupt, newer, or a staged file gone astray)
└── RunLocked             another run holds the run lock (names the lock file, the holder's pid and start)
```

Bugs are not CetkErrors: they raise with a traceback (and exit 2). Messages never contain secrets or
personal values; callers pass masked values only.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """How every cetk command ends, as grep and diff do: 0 ok, 1 "found something", 2 trouble
    (docs/cli.md#exit-codes). Scripts may rely on these numbers; never reuse one for another meaning."""

    OK = 0  # done, including "nothing to do"
    DATA_PROBLEMS = 1  # finished, but the data has problems (validate; later a sync that quarantined rows)
    FAILED = 2  # could not do the job: usage, config, unreadable input, sign-in or service failure, a bug
    LOCKED = 3  # another run holds the lock (issue 8)
    TIMED_OUT = 4  # gave up waiting (issue 9: refresh --wait)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it; typer's own convention)


class CetkError(Exception):
    """Base of every error the toolkit expects and explains."""

    default_hint = "run the command with --help for usage"
    exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message


class ConfigError(CetkError):
    default_hint = "check the config file (cetk config show) and the CETK_* environment variables"


class SecretInConfigError(ConfigError):
    default_hint = "remove the value from the file and set it in the environment or the OS keyring"


class ModelError(CetkError):
    default_hint = "fix the declaration in powerbi_dataset/model.py"


class ServiceAnswer(CetkError):
    """What a service said about a request that failed: its HTTP status, its own error code, and its id
    for the request (for a support ticket). Declared once for ConnectorError and RequestRefusedError, so a
    refusal (a PublishError) carries the same fields without being a ConnectorError, which retry paths
    catch as transient."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        service_code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.service_code = service_code
        self.request_id = request_id


class ConnectorError(ServiceAnswer):
    default_hint = "retry later; if it persists, check the service health and the request log"


class AuthError(ConnectorError):
    default_hint = "check the tenant, client id and credential (cetk config show), and the app's permissions"


class NotFoundError(ConnectorError):
    default_hint = "check the site, list, workspace or dataset named in the settings"


class ResyncRequiredError(ConnectorError):
    default_hint = "the saved delta link expired; the next run reads the whole list again"

    def __init__(self, message: str, *, restart_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.restart_url = restart_url  # Graph's Location header: where a full enumeration restarts


class ThrottledError(ConnectorError):
    default_hint = "the service is throttling this app; run again later or lower the request rate"

    def __init__(self, message: str, *, retry_after_seconds: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds


class AmbiguousWriteError(ConnectorError):
    """The write may or may not have been applied (no answer, or a 5xx): it is never resent, and a row POST's
    load is abandoned (reliability-security.md R2)."""

    default_hint = (
        "the request was not resent because the service may have applied it; "
        "check the target before trying again (a publish starts a new load)"
    )


class SourceFormatError(CetkError):
    default_hint = "check the file against the canonical shape (cetk schema show)"


class ValidationFailed(CetkError):
    default_hint = "see the report; rejected rows are quarantined with their reasons"
    exit_code = ExitCode.DATA_PROBLEMS

    def __init__(self, message: str, *, report: Any, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


class PublishError(CetkError):
    default_hint = "see the service's message; nothing was committed for this load"


class RequestRefusedError(ServiceAnswer, PublishError):
    """Power BI answered that the request itself is wrong: nothing was applied."""

    default_hint = "see the service's message; nothing was applied"


class DataRefusedError(PublishError):
    """A staged value may not reach Power BI (special-category, not pseudonymised, over 4,000 characters)."""

    default_hint = "fix the row at source (or the model), sync again, then publish; nothing was sent"


class RefreshError(CetkError):
    default_hint = "see docs/refresh.md"


class EmulatorError(CetkError):
    default_hint = "see cetk emulator serve --help"


class StateError(CetkError):
    """The sync state database or a staged snapshot cannot be trusted; `--full` rebuilds it."""

    default_hint = "run `cetk sync --full` to rebuild the sync state from a full read of every list"


class RunLocked(CetkError):
    """A second run while one is in progress (exit code 3 in the project's exit table)."""

    exit_code = ExitCode.LOCKED
    default_hint = "wait for the other run to finish; a lock left by a dead process is released automatically"

    def __init__(
        self,
        message: str,
        *,
        lock_path: str,
        holder_pid: int | None = None,
        holder_started_utc: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.lock_path = lock_path
        self.holder_pid = holder_pid
        self.holder_started_utc = holder_started_utc
