"""`walkbot migrate` and `walkbot run` read the database from the same place: the environment,
then a `.env` file in the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from walkbot import cli
from walkbot.store.migrate import alembic_config, is_at_head


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no DATABASE_URL or token in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return tmp_path


def test_migrate_upgrades_the_database_named_in_dotenv(workdir: Path) -> None:
    target = workdir / "from-dotenv.db"
    (workdir / ".env").write_text(f"DATABASE_URL=sqlite:///{target}\n", encoding="utf-8")

    assert cli.main(["migrate"]) == 0

    assert is_at_head(f"sqlite:///{target}")
    assert not (workdir / "walkbot.db").exists()


@pytest.mark.parametrize("command", ["migrate", "run"])
def test_a_bad_database_url_is_one_clear_line_and_exit_code_2(
    workdir: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=123456789:AAbbccddeeffgghhiijjkkllmmnnooppqq\n"
        "DATABASE_URL=mysql://root@localhost/walkbot\n",
        encoding="utf-8",
    )

    assert cli.main([command]) == cli.EXIT_CONFIG

    assert capsys.readouterr().err == (
        "walkbot: DATABASE_URL must be a sqlite:/// or postgresql:// URL\n"
    )
    assert not (workdir / "walkbot.db").exists()


def test_console_refuses_a_bad_database_url_the_same_way(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["console", "--database-url", "mysql://root@localhost/x"]) == cli.EXIT_CONFIG
    assert capsys.readouterr().err == (
        "walkbot: DATABASE_URL must be a sqlite:/// or postgresql:// URL\n"
    )


def test_alembic_on_its_own_reads_the_same_settings(workdir: Path) -> None:
    """`alembic upgrade head` run by hand (no URL from walkbot) finds the database as `walkbot
    run` does."""
    target = workdir / "from-dotenv.db"
    (workdir / ".env").write_text(f"DATABASE_URL=sqlite:///{target}\n", encoding="utf-8")
    config = alembic_config("unused")
    del config.attributes["database_url"]

    command.upgrade(config, "head")

    assert is_at_head(f"sqlite:///{target}")
    assert not (workdir / "walkbot.db").exists()
