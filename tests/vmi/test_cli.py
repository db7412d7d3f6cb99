"""The `vmi` command: dispatch and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vmi.cli import main


@pytest.mark.parametrize("program", ["edge", "cloud"])
def test_a_bad_config_is_one_clear_line_and_exit_2(
    program: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[mqtt]\nurl = 'http://not-mqtt'\n")
    assert main([program, "run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vmi: error: {program} config {path} is invalid")
    assert "Traceback" not in err


def test_a_missing_config_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edge", "run", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read edge config" in capsys.readouterr().err


def test_unknown_command_and_missing_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["nope"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(["edge", "run"])
    assert "--config" in capsys.readouterr().err


def test_wire_doc_prints_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wire-doc"]) == 0
    assert "vmi/v1/<site>/<device>/readings" in capsys.readouterr().out


def test_epc_decode_prints_json_and_refuses_non_sgtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["epc", "decode", "3074257BF7194E4000001A85"]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert decoded["gtin14"] == "80614141123458"
    assert decoded["uri"] == "urn:epc:id:sgtin:0614141.812345.6789"
    assert main(["epc", "decode", "E2801160600002054E1A3B7C"]) == 2
    assert "not an SGTIN-96 EPC" in capsys.readouterr().err
