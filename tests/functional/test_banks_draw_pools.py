"""A bank change reaches every process's draw pool at once, not after the pool's lifetime."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from quizengine.models import Bank
from quizengine.store import Store, keys

CSV = "code,question,option_a,option_b,correct\nQ1,Đội mũ bảo hiểm khi đi xe máy?,Có,Không,A\n"


def test_importing_into_a_bank_drops_its_draw_pool_token(
    runner: FlaskCliRunner, store: Store, tmp_path: Path, db_session
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bank.csv"
    path.write_text(CSV, encoding="utf-8")
    assert runner.invoke(args=["banks", "import", str(path), "--bank", "atgt"]).exit_code == 0
    bank_id = db_session.query(Bank.id).filter_by(slug="atgt").scalar()
    store.set(keys.draw_pool_token(bank_id), "generation-1")

    path.write_text(CSV.replace("Có,Không", "Có,Không bắt buộc"), encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(path), "--bank", "atgt"])

    assert result.exit_code == 0, result.output
    assert store.get(keys.draw_pool_token(bank_id)) is None


def test_a_dry_run_leaves_the_draw_pool_alone(
    runner: FlaskCliRunner, store: Store, tmp_path: Path, db_session
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bank.csv"
    path.write_text(CSV, encoding="utf-8")
    runner.invoke(args=["banks", "import", str(path), "--bank", "atgt"])
    bank_id = db_session.query(Bank.id).filter_by(slug="atgt").scalar()
    store.set(keys.draw_pool_token(bank_id), "generation-1")

    runner.invoke(args=["banks", "import", str(path), "--bank", "atgt", "--dry-run"])

    assert store.get(keys.draw_pool_token(bank_id)) == "generation-1"
