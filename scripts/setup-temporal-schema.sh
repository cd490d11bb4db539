#!/usr/bin/env bash
# Creates (or brings up to date) the Temporal server's two PostgreSQL databases with the server's
# own sql tool and schemas (postgresql/v12, from Go's module cache). Safe to run again: existing
# databases are kept and only missing schema versions are applied.
#   TEMPORAL_PG_HOST (127.0.0.1) TEMPORAL_PG_PORT (5432) TEMPORAL_PG_USER (postgres)
#   TEMPORAL_PG_PASSWORD ('') TEMPORAL_DB (temporal) TEMPORAL_VISIBILITY_DB (temporal_visibility)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t built < <(bash scripts/ensure-temporal-server.sh)
sql_tool=${built[1]}
schema=${built[2]}/postgresql/v12

export SQL_PLUGIN=postgres12
export SQL_HOST=${TEMPORAL_PG_HOST:-127.0.0.1}
export SQL_PORT=${TEMPORAL_PG_PORT:-5432}
export SQL_USER=${TEMPORAL_PG_USER:-postgres}
export SQL_PASSWORD=${TEMPORAL_PG_PASSWORD:-}

setup() { # database, schema folder
  local db=$1 dir=$2
  # create-database answers an error for a database that exists; that is the case to go on from.
  "$sql_tool" --db "$db" create-database >/dev/null 2>&1 || true
  # Version 0.0 makes the schema_version tables once; a second run finds them and is refused.
  "$sql_tool" --db "$db" setup-schema -v 0.0 >/dev/null 2>&1 || true
  if ! "$sql_tool" --db "$db" update-schema -d "$schema/$dir/versioned" >/dev/null 2>"/tmp/temporal-schema-$db.log"; then
    echo "schema update of database $db failed (PostgreSQL at $SQL_HOST:$SQL_PORT as $SQL_USER):" >&2
    cat "/tmp/temporal-schema-$db.log" >&2
    exit 1
  fi
}
setup "${TEMPORAL_DB:-temporal}" temporal
setup "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" visibility
echo "Temporal schemas ready in ${TEMPORAL_DB:-temporal} and ${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" >&2
