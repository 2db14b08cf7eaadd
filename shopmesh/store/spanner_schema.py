"""Create or update the services' Spanner databases, idempotently.

    python -m shopmesh.store.spanner_schema stock payment order

Each service owns one database, `<SPANNER_DATABASE_PREFIX><service>` (default shop-stock,
shop-payment, shop-order), in SPANNER_INSTANCE of SPANNER_PROJECT. The schema is the
numbered DDL files its Spanner adapter names (`<service>_svc.store.spanner.DDL_DIR`),
applied in order; the versions
applied are recorded in the database's SchemaMigrations table, so re-running applies only
what is new. Against the emulator (SPANNER_EMULATOR_HOST) the instance is created too.
"""

import importlib
import logging
import pathlib
import sys
import time

from google.api_core import exceptions
from google.cloud import spanner

from shopmesh.store.spanner import SpannerSettings, client_for

log = logging.getLogger(__name__)
MIGRATIONS_DDL = (
    "CREATE TABLE SchemaMigrations (Version STRING(64) NOT NULL, AppliedAt TIMESTAMP NOT NULL"
    " OPTIONS (allow_commit_timestamp = true)) PRIMARY KEY (Version)"
)
TIMEOUT_S = 600


def ddl_files(ddl_dir: pathlib.Path) -> list[pathlib.Path]:
    return sorted(ddl_dir.glob("*.sql"))


def ddl_dir_of(service: str) -> pathlib.Path:
    """Where the service's Spanner adapter keeps its DDL: it says so itself (DDL_DIR)."""
    return importlib.import_module(f"{service}_svc.store.spanner").DDL_DIR


def statements(path: pathlib.Path) -> list[str]:
    lines = [line for line in path.read_text().splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def ensure_instance(client: spanner.Client, settings: SpannerSettings):
    instance = client.instance(settings.instance)
    if settings.emulator_host and not instance.exists():
        instance = client.instance(
            settings.instance,
            configuration_name=f"projects/{settings.project}/instanceConfigs/emulator-config",
            node_count=1,
        )
        try:
            instance.create().result(TIMEOUT_S)
        except exceptions.AlreadyExists:
            pass
    return instance


def ensure_database(instance, name: str):
    database = instance.database(name)
    if not database.exists():
        try:
            database.create().result(TIMEOUT_S)
            log.info("created database %s", name)
        except exceptions.AlreadyExists:
            pass
    return database


def applied_versions(database) -> set[str]:
    tables = {table.table_id for table in database.list_tables()}
    if "SchemaMigrations" not in tables:
        try:
            database.update_ddl([MIGRATIONS_DDL]).result(TIMEOUT_S)
        except exceptions.FailedPrecondition:
            pass  # created concurrently by another process
        return set()
    with database.snapshot() as snapshot:
        return {row[0] for row in snapshot.execute_sql("SELECT Version FROM SchemaMigrations")}


def migrate(ddl_dir: pathlib.Path, settings: SpannerSettings) -> list[str]:
    """Apply the pending DDL files of `ddl_dir`; returns the versions applied now."""
    client = client_for(settings)
    database = ensure_database(ensure_instance(client, settings), settings.database)
    done = applied_versions(database)
    applied = []
    for path in ddl_files(ddl_dir):
        if path.stem in done:
            continue
        database.update_ddl(statements(path)).result(TIMEOUT_S)
        database.run_in_transaction(
            lambda txn, v=path.stem: txn.insert_or_update(
                "SchemaMigrations", ("Version", "AppliedAt"), [(v, spanner.COMMIT_TIMESTAMP)]
            )
        )
        applied.append(path.stem)
    return applied


def main(argv: list[str]) -> int:
    logging.basicConfig(level="INFO", format="%(message)s")
    if not argv:
        print("usage: python -m shopmesh.store.spanner_schema SERVICE...", file=sys.stderr)
        return 2
    try:
        ddl_dirs = {service: ddl_dir_of(service) for service in argv}
    except ModuleNotFoundError as error:
        print(f"no such service: {error.name}", file=sys.stderr)
        return 2
    for service, ddl_dir in ddl_dirs.items():
        settings = SpannerSettings.from_env(service)
        started = time.monotonic()
        applied = migrate(ddl_dir, settings)
        print(
            f"{service}: database {settings.project}/{settings.instance}/{settings.database}"
            f" up to date ({', '.join(applied) or 'nothing new'} applied,"
            f" {time.monotonic() - started:.1f}s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
