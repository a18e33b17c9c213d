"""`oculi pay …` and `oculi wallet …`: the JSON contract and exit codes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from walletdb import tamper

from oculi.cli import main
from oculi.runtime.config import Config, load_config
from oculi.services.wallet.wallet import wallet_target

CONTRACT_KEYS = {
    "valid",
    "error",
    "scheme",
    "merchant_name",
    "merchant_city",
    "country",
    "currency",
    "amount",
    "initiation",
    "tags",
}
BCB_EXAMPLE = (
    "00020101021226720014br.gov.bcb.pix2550bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd441"
    "5204000053039865406123.455802BR5913Fulano de Tal6008BRASILIA62190515RP12345678-2019630445C8"
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OCULI_CONFIG", "OCULI_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCULI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], code: int) -> Any:
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


def test_parse_valid_code_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["pay", "parse", BCB_EXAMPLE, "--json"], 0)
    assert set(out) == CONTRACT_KEYS
    assert out["valid"] is True and out["error"] is None
    assert (out["scheme"], out["merchant_name"], out["merchant_city"]) == (
        "pix",
        "Fulano de Tal",
        "BRASILIA",
    )
    assert (out["country"], out["currency"], out["amount"], out["initiation"]) == (
        "BR",
        "BRL",
        "123.45",
        "dynamic",
    )
    assert out["tags"]["59"] == "Fulano de Tal"
    assert out["tags"]["26.00"] == "br.gov.bcb.pix"
    assert out["tags"]["26.25"] == "bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd441"
    assert out["tags"]["62.05"] == "RP12345678-2019"
    assert list(out["tags"])[:4] == ["00", "01", "26", "26.00"]  # sub-tags follow their parent


def test_parse_bad_crc_exits_two_naming_the_tag(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["pay", "parse", BCB_EXAMPLE[:-4] + "FFAA", "--json"], 2)
    assert set(out) == CONTRACT_KEYS
    assert out["valid"] is False
    assert out["error"].startswith("tag 63:") and "45C8" in out["error"]
    assert out["tags"]["63"] == "FFAA"  # what could be read is still shown


def test_parse_upi_link_exits_two_not_supported(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["pay", "parse", "upi://pay?pa=shop@upi&am=10", "--json"], 2)
    assert out["scheme"] == "upi" and "not supported yet" in out["error"]
    assert out["tags"] == {}


@pytest.mark.parametrize("payload", ["", "hello", "0" * 5000, "000201\x00"])
def test_parse_junk_exits_two_with_json(payload: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["pay", "parse", payload, "--json"], 2)
    assert out["valid"] is False and out["error"]


def test_parse_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pay", "parse", BCB_EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert "PIX" in out and "Fulano de Tal" in out and "123.45 BRL" in out and "26.25" in out
    assert main(["pay", "parse", BCB_EXAMPLE[:-1] + "9"]) == 2
    assert "CRC mismatch" in capsys.readouterr().err


def test_code_writes_a_code_that_parses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pay", "code", "--amount", "9.90"]) == 0
    payload = capsys.readouterr().out.strip()
    out = _json(capsys, ["pay", "parse", payload, "--json"], 0)
    assert out["amount"] == "9.90" and out["scheme"] == "pix"
    assert main(["pay", "code", "--scheme", "promptpay", "--key", "0812345678"]) == 0
    payload = capsys.readouterr().out.strip()
    assert _json(capsys, ["pay", "parse", payload, "--json"], 0)["scheme"] == "promptpay"


def test_payment_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pay", "code", "--amount", "12.50"]) == 0
    payload = capsys.readouterr().out.strip()
    assert main(["wallet", "fund", "BRL", "100.00"]) == 0
    assert main(["pay", "limit", "BRL", "--per-payment", "50", "--per-day", "100"]) == 0
    capsys.readouterr()
    created = _json(capsys, ["pay", "create", payload, "--key", "k1", "--json"], 0)
    assert created["state"] == "awaiting_confirmation" and created["amount_minor"] == 1250
    again = _json(capsys, ["pay", "create", payload, "--key", "k1", "--json"], 0)
    assert again["id"] == created["id"]
    pid = created["id"]
    assert (
        _json(capsys, ["pay", "confirm", pid, "--key", "c1", "--json"], 0)["state"] == "authorised"
    )
    assert main(["pay", "confirm", pid, "--key", "c2"]) == 2
    assert "already confirmed" in capsys.readouterr().err
    assert _json(capsys, ["pay", "capture", pid, "--json"], 0)["state"] == "captured"
    assert main(["wallet", "balance", "BRL"]) == 0
    assert "available 87.50" in capsys.readouterr().out
    assert main(["wallet", "verify"]) == 0


def test_over_the_limit_exits_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pay", "code", "--amount", "80.00"]) == 0
    payload = capsys.readouterr().out.strip()
    assert main(["pay", "limit", "BRL", "--per-payment", "50", "--per-day", "100"]) == 0
    capsys.readouterr()
    out = _json(capsys, ["pay", "create", payload, "--json"], 1)
    assert out["state"] == "declined" and "per-payment limit" in out["reason"]


def test_verify_exits_one_when_the_audit_log_was_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["wallet", "fund", "BRL", "10.00"]) == 0
    assert main(["wallet", "verify"]) == 0
    db = sqlite3.connect(tmp_path / "data" / "wallet.sqlite3")
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET detail = '{\"amount_minor\": 1}' WHERE seq = 1")
    db.commit()
    db.close()
    capsys.readouterr()
    assert main(["wallet", "verify"]) == 1
    assert "audit entry 1" in capsys.readouterr().err


def test_wallet_serve_refuses_a_short_admin_token_or_a_busy_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from oculi.services.wallet.server import ADMIN_TOKEN_ENV, listen

    db = str(tmp_path / "w.sqlite3")
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "short")
    assert main(["wallet", "serve", "--port", "0", "--db", db]) == 2
    assert ADMIN_TOKEN_ENV in capsys.readouterr().err
    monkeypatch.delenv(ADMIN_TOKEN_ENV)
    with listen("127.0.0.1", 0) as busy:
        port = str(busy.getsockname()[1])
        assert main(["wallet", "serve", "--port", port, "--db", db]) == 2
    assert "cannot listen" in capsys.readouterr().err


def test_commands_take_a_postgres_url(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", pg_url]
    assert main(["pay", "code", "--amount", "12.50"]) == 0
    payload = capsys.readouterr().out.strip()
    assert main(["wallet", "fund", "BRL", "100.00", *db]) == 0
    assert main(["pay", "limit", "BRL", "--per-payment", "50", "--per-day", "100", *db]) == 0
    capsys.readouterr()
    created = _json(capsys, ["pay", "create", payload, "--key", "k1", "--json", *db], 0)
    pid = created["id"]
    assert _json(capsys, ["pay", "confirm", pid, "--json", *db], 0)["state"] == "authorised"
    assert main(["pay", "confirm", pid, *db]) == 2
    assert "already confirmed" in capsys.readouterr().err
    assert _json(capsys, ["pay", "capture", pid, "--json", *db], 0)["state"] == "captured"
    assert main(["wallet", "balance", "BRL", *db]) == 0
    assert "available 87.50" in capsys.readouterr().out
    assert main(["wallet", "verify", *db]) == 0
    assert not (Path("data") / "wallet.sqlite3").exists()  # nothing went to the SQLite default
    tamper(pg_url, "UPDATE audit_log SET detail = '{\"amount_minor\": 1}' WHERE seq = 1")
    capsys.readouterr()
    assert main(["wallet", "verify", *db]) == 1
    assert "audit entry 1" in capsys.readouterr().err


def test_an_unreachable_postgres_url_exits_two_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://wallet:s3cret@/oculi?host={tmp_path}&connect_timeout=2"
    assert main(["wallet", "balance", "BRL", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and "s3cret" not in err


def test_the_configured_wallet_may_be_a_url(tmp_path: Path) -> None:
    config = load_config(env={"OCULI_DATA_DIR": str(tmp_path)})
    assert wallet_target(config) == tmp_path / "wallet.sqlite3"
    url = "postgresql://oculi@db.example/wallet"
    assert wallet_target(Config({**config.values, "wallet.path": url})) == url
    elsewhere = tmp_path / "elsewhere.sqlite3"
    assert wallet_target(Config({**config.values, "wallet.path": str(elsewhere)})) == elsewhere
