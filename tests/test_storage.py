"""At rest: the database directory is 0700 and every database file 0600 (WAL and SHM included), and
the generated secret key is created atomically, even by several processes starting together."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from finops.config import Settings, read_or_create_secret_key
from finops.db import connect
from finops.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_database_is_private_wal_and_shm_included(tmp_path):
    var = tmp_path / "var"
    db = connect(var / "finops.db")
    db["probe"].insert({"x": 1})  # a write: the WAL and SHM exist now
    files = {p.name: mode(p) for p in var.iterdir()}
    assert mode(var) == 0o700
    assert files == {"finops.db": 0o600, "finops.db-wal": 0o600, "finops.db-shm": 0o600}
    settings = Settings(db_path=var / "finops.db").with_secret_key()
    assert mode(var / "secret_key") == 0o600 and len(settings.secret_key) == 64


def test_files_left_readable_by_an_older_version_are_narrowed(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    os.chmod(var, 0o755)
    connect(var / "finops.db")["probe"].insert({"x": 1})
    for path in (var, *var.iterdir()):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    connect(var / "finops.db")
    assert mode(var) == 0o700
    assert {p.name: mode(p) for p in var.iterdir()} == {
        "finops.db": 0o600, "finops.db-wal": 0o600, "finops.db-shm": 0o600}


# What each of the processes runs: wait for the shared start instant, then get the key as the app does.
_RACER = """
import sys, time
from pathlib import Path
from finops.config import Settings
start = float(sys.argv[2])
while time.time() < start:
    pass
settings = Settings(db_path=Path(sys.argv[1]) / "finops.db").with_secret_key()
print(settings.secret_key)
"""


def test_four_processes_starting_together_on_a_fresh_directory_share_one_key(tmp_path):
    """gunicorn's default shape (4 workers, no FINOPS_SECRET_KEY): before, one often read an empty
    key (every page a 500) or crashed with FileExistsError (19 of 30 such rounds with the former
    code). 6 rounds of 4 processes, each released at the same instant on a fresh directory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_number in range(6):
        var = tmp_path / f"round-{round_number}"
        start = time.time() + 1.0  # after the interpreters are up: they all race for the file
        racers = [subprocess.Popen([sys.executable, "-c", _RACER, str(var), str(start)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(4)]
        outputs = [racer.communicate(timeout=60) for racer in racers]
        assert [racer.returncode for racer in racers] == [0, 0, 0, 0], [err[-500:] for _, err in outputs]
        keys = {out.strip() for out, _ in outputs}
        assert len(keys) == 1 and len(keys.pop()) == 64, outputs
        assert sorted(p.name for p in var.iterdir()) == ["secret_key"]  # no temporary file left behind
        assert mode(var / "secret_key") == 0o600


def test_readers_wait_for_a_key_being_written_and_name_a_key_left_empty(tmp_path, monkeypatch):
    key_file = tmp_path / "secret_key"
    key_file.touch(mode=0o600)  # as an older version's O_EXCL create left it, before its write

    def write_later() -> None:
        time.sleep(0.3)
        key_file.write_text("k" * 64)

    writer = threading.Thread(target=write_later)
    writer.start()
    assert read_or_create_secret_key(key_file) == "k" * 64  # retried until non-empty
    writer.join()

    key_file.write_text("")
    monkeypatch.setattr("finops.config.SECRET_KEY_WAIT_SECONDS", 0.2)
    with pytest.raises(ConfigError, match="is empty: delete it"):
        read_or_create_secret_key(key_file)


# -- a forked work-horse and its parent's connections ---------------------------------------------------
class _Cycle:
    """An unreachable object holding a connection, which only the cyclic garbage collector frees."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.db, self.me = db, self


def _horse_writes_while_the_parent_collects(path: Path, prepare) -> int:  # type: ignore[no-untyped-def]
    """The parent holds a connection only a cycle keeps alive, calls ``prepare`` and forks; the child
    (the work-horse) writes 20 rows through its own connection, the parent's garbage collector runs,
    the child writes 20 more. How many rows a reader sees afterwards."""
    import gc

    connect(path).execute("create table if not exists t (x)")
    gc.collect()
    gc.disable()  # the parent's collector runs below, when the test says so
    to_parent, from_child = os.pipe()
    to_child, from_parent = os.pipe()
    try:
        held = _Cycle(connect(path))
        held.db.execute("select count(*) from t").fetchall()
        del held  # unreachable, still open
        prepare()
        pid = os.fork()
        if pid == 0:  # the work-horse
            child = connect(path, migrations=False)
            for number in range(40):
                if number == 20:
                    os.write(from_child, b"x")  # halfway: the parent collects now
                    os.read(to_child, 1)
                child.execute("insert into t values (?)", [number])
            os._exit(0)
        os.read(to_parent, 1)
        gc.collect()  # the parent, mid-job, frees what the cycle held
        os.write(from_parent, b"x")
        os.waitpid(pid, 0)
    finally:
        gc.enable()
        for fd in (to_parent, from_child, to_child, from_parent):
            os.close(fd)
    return connect(path).execute("select count(*) from t").fetchone()[0]


def test_a_forked_work_horse_loses_no_write_when_the_parent_collected_its_connections_before_the_fork(tmp_path):
    from finops.worker import before_fork

    # Without before_fork the horse loses every write after the parent's collection (SQLite copies
    # its lock bookkeeping across fork); this is the hazard ReviewWorker and the tests' worker avoid.
    assert _horse_writes_while_the_parent_collects(tmp_path / "unsafe.db", lambda: None) == 20
    assert _horse_writes_while_the_parent_collects(tmp_path / "safe.db", before_fork) == 40
