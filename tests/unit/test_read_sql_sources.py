"""Issue 16 item 1: the app's database source opens SQLite files only under data/, read-only,
never creating one; `..` and symlinks out of the folder are refused."""

from __future__ import annotations

import sqlite3

import pytest

from dealscope.ingest.errors import SourceError
from dealscope.ingest.read_sql import list_source_tables, read_database_table


@pytest.fixture
def project(tmp_path):
    """A project root with data/crm.db (one table) and a secret.db outside data/."""
    (tmp_path / "data").mkdir()
    for path in (tmp_path / "data" / "crm.db", tmp_path / "secret.db"):
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE deals (id TEXT, stage TEXT)")
            conn.execute("INSERT INTO deals VALUES ('1', 'Won')")
        conn.close()
    return tmp_path


def test_a_file_under_data_is_read(project):
    root = project / "data"
    assert list_source_tables("sqlite:///data/crm.db", root) == ["deals"]
    table = read_database_table(f"sqlite:///{root / 'crm.db'}", "deals", root)
    assert table.data.to_dict("list") == {"id": ["1"], "stage": ["Won"]}


@pytest.mark.parametrize(
    "database", ["secret.db", "data/../secret.db", "{root}/secret.db", "/etc/passwd"]
)
def test_files_outside_data_are_refused(project, database):
    url = "sqlite:///" + database.format(root=project)
    with pytest.raises(SourceError, match="only be read from the server's data/ folder"):
        list_source_tables(url, project / "data")


def test_a_symlink_out_of_data_is_refused(project):
    (project / "data" / "link.db").symlink_to(project / "secret.db")
    with pytest.raises(SourceError, match="outside it"):
        list_source_tables("sqlite:///data/link.db", project / "data")


def test_a_missing_file_is_refused_and_not_created(project):
    with pytest.raises(SourceError, match="There is no SQLite file"):
        list_source_tables("sqlite:///data/new.db", project / "data")
    assert not (project / "data" / "new.db").exists()


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:data/crm.db?mode=rw&uri=true"]
)
def test_memory_and_uri_forms_are_refused(project, url):
    with pytest.raises(SourceError, match="must name a database file"):
        list_source_tables(url, project / "data")


def test_the_source_is_opened_read_only(project):
    from dealscope.ingest.read_sql import _engine

    engine = _engine("sqlite:///data/crm.db", project / "data")
    with engine.connect() as conn, pytest.raises(Exception, match="readonly"):
        conn.exec_driver_sql("DELETE FROM deals")
    engine.dispose()
