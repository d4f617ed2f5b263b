"""`cetk --config FILE config show` on hostile files, through cli.main: two clean lines, never a traceback.

Exit codes are asserted as "not 0" with the Error:/Hint: lines: the project-wide exit-code table decides
which non-zero code a ConfigError gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main
from tests.config.test_loader import ALIAS_BOMB

CASES = {
    "alias-bomb": ALIAS_BOMB,
    "deep-flow": "tenant_id: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-mapping": "auth: " + "{a: " * 5000 + "}" * 5000 + "\n",
    "python-tag": "organisation: !!python/object/apply:os.system [echo PLANTED-SECRET-1]\n",
    "secret-url": "sharepoint:\n  site_url: https://svc:PLANTED-SECRET-2@contoso.sharepoint.com/sites/x\n",
}


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("as_json", [False, True])
def test_a_hostile_config_file_is_two_clean_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, as_json: bool
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CASES[name], encoding="utf-8")
    with pytest.raises(SystemExit) as ended:
        main(
            [
                "--log-level",
                "DEBUG",
                "--config",
                str(path),
                "config",
                "show",
                *(["--json"] if as_json else []),
            ]
        )
    out, err = capsys.readouterr()
    assert ended.value.code not in (0, None)
    assert out == ""
    lines = err.splitlines()
    assert lines[-2].startswith(f"Error: config file {path}") and lines[-1].startswith("Hint: ")
    assert "Traceback" not in err and "PLANTED" not in err
