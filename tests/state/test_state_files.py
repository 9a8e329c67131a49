"""Where the store lives by default, and that its SQLite file is private (it holds the token cache)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from syncframe.errors import StateSettingsError
from syncframe.state import StateStore, default_state_url
from syncframe.state.database import display_url, normalize_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """platformdirs' user data dir on Linux follows XDG_DATA_HOME."""
    monkeypatch.delenv("SYNCFRAME_STATE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def test_default_url_is_a_file_in_a_private_user_data_dir(data_home):
    url = default_state_url()
    directory = data_home / "syncframe"
    assert url == f"sqlite:///{directory / 'state.db'}"
    assert mode(directory) == 0o700


def test_default_dir_is_tightened_when_it_exists_already(data_home):
    (data_home / "syncframe").mkdir(parents=True, mode=0o755)
    os.chmod(data_home / "syncframe", 0o755)
    default_state_url()
    assert mode(data_home / "syncframe") == 0o700


def test_env_var_names_a_url_or_a_path(data_home, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNCFRAME_STATE", "postgresql://sync@db.example/syncframe")
    assert default_state_url() == "postgresql://sync@db.example/syncframe"
    monkeypatch.setenv("SYNCFRAME_STATE", str(tmp_path / "custom.db"))
    assert default_state_url() == f"sqlite:///{tmp_path / 'custom.db'}"
    assert not (data_home / "syncframe").exists()


def test_relative_paths_become_absolute_sqlite_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert normalize_url("state.db") == f"sqlite:///{tmp_path / 'state.db'}"
    assert normalize_url("sqlite:///relative.db") == "sqlite:///relative.db"


def test_open_without_url_uses_the_default(data_home):
    with StateStore.open() as store:
        store.save_token_cache("contoso", "secret cache")
        assert store.url == f"sqlite:///{data_home / 'syncframe' / 'state.db'}"
    assert mode(data_home / "syncframe" / "state.db") == 0o600


def test_sqlite_file_and_its_wal_are_0600(tmp_path):
    path = tmp_path / "state.db"
    old_umask = os.umask(0o022)  # a usual umask would give 0644 files
    try:
        with StateStore.open(f"sqlite:///{path}") as store:
            store.save_token_cache("contoso", '{"RefreshToken": {"x": {"secret": "r-token"}}}')
            assert store.load_token_cache("contoso") is not None
            wal = Path(f"{path}-wal")
            assert wal.exists()  # WAL mode is on
            assert mode(wal) == 0o600
            assert mode(Path(f"{path}-shm")) == 0o600
            with store.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600


def test_an_explicit_path_never_creates_its_directory(tmp_path):
    """Only the default location is created: a typo in --state is an error, not a new empty store."""
    with pytest.raises(StateSettingsError, match="does not exist"):
        StateStore.open(tmp_path / "new" / "state.db")
    assert not (tmp_path / "new").exists()


def test_an_existing_readable_file_is_tightened(tmp_path):
    path = tmp_path / "state.db"
    path.touch()
    os.chmod(path, 0o644)
    StateStore.open(path).close()
    assert mode(path) == 0o600


def test_in_memory_sqlite_works_from_threads():
    import threading

    with StateStore.open("sqlite://") as store:
        run_id = store.start_run("c", "sync", "run")

        def worker(n: int) -> None:
            for i in range(20):
                jid = store.journal_intent(run_id, "c", {"kind": "create", "source_id": f"{n}-{i}"})
                store.journal_outcome(jid, True, link=(f"{n}-{i}", "t", "l", "created"))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.journal(run_id)) == 80 and len(store.links("c")) == 80


def test_display_url_masks_the_password():
    assert display_url("postgresql://sync:s3cret@db/x") == "postgresql://sync:***@db/x"
    assert display_url("sqlite:////var/lib/state.db") == "sqlite:////var/lib/state.db"
