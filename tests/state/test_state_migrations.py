"""Opening a store migrates it from empty to head, and the migrated schema is the models' schema."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from syncframe.state import StateStore
from syncframe.state import database, migrate
from syncframe.state.models import Base, utcnow

TABLES = set(Base.metadata.tables)
#: the newest migration script shipped: its file name starts with the revision id
NEWEST = max(p.name.split("_")[0] for p in (migrate.MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))


def test_open_migrates_an_empty_database_to_head(store_url):
    engine = database.create_store_engine(store_url)  # creates an empty file on SQLite, nothing more
    try:
        assert migrate.current_revision(engine) is None
        store = StateStore.open(store_url)
        store.close()
        assert migrate.current_revision(engine) == migrate.head_revision() == NEWEST
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_upgrade_again(store):
    store.set_bookmark("c", "b1")
    migrate.downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(store.engine)
    assert migrate.current_revision(store.engine) == NEWEST
    assert store.get_bookmark("c") is None  # a fresh, empty schema


def test_reopening_keeps_the_data(store_url):
    with StateStore.open(store_url) as first:
        first.add_connector("c", 'title = "x"')
    with StateStore.open(store_url) as second:
        assert second.get_connector("c").profile_text == 'title = "x"'


def test_concurrent_opens_of_a_fresh_database_all_succeed(store_url):
    errors: list[BaseException] = []

    def open_once() -> None:
        try:
            StateStore.open(store_url).close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with StateStore.open(store_url) as store:
        assert migrate.current_revision(store.engine) == NEWEST


def test_a_store_at_0003_keeps_its_links_through_0004(store_url):
    """0004 adds ``links.held_since`` (empty) and ``connector_targets`` to a store in use."""
    engine = database.create_store_engine(store_url)
    try:
        migrate.upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO links (connector, source_id, target_id, login, origin, created_at, updated_at) "
                     "VALUES ('c', 's1', 't1', 'a@b.c', 'created', :now, :now)"),
                {"now": utcnow()},
            )
    finally:
        engine.dispose()
    with StateStore.open(store_url) as store:
        link = store.links("c")["s1"]
        assert (link.target_id, link.held_since) == ("t1", None)
        store.hold_removals("c", {"s1"})
        assert store.links("c")["s1"].held_since is not None
        migrate.downgrade(store.engine, "0003")
        assert "connector_targets" not in inspect(store.engine).get_table_names()
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT source_id FROM links")).scalars().all() == ["s1"]


def test_migrations_ship_inside_the_package():
    directory = migrate.MIGRATIONS_DIR
    assert (directory / "env.py").is_file()
    assert (directory / "script.py.mako").is_file()
    assert (directory / "versions" / "0001_initial.py").is_file()
    assert migrate.alembic_config().get_main_option("script_location") == str(directory)


def test_the_schema_comparison_notices_a_model_change(store):
    """Guards the test above: a column the migrations lack shows up as a difference."""
    from sqlalchemy import Column, MetaData, String

    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["links"].append_column(Column("nickname", String(50)))
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), changed)
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "links", "nickname")]
