#!/bin/sh
# Temporal's persistence and visibility schemas on PostgreSQL, with temporal-sql-tool from
# temporalio/admin-tools (the steps of temporalio/samples-server's compose/scripts/setup-postgres.sh).
# Run before every start of the server, so an upgraded image finds its schema upgraded; each step
# leaves what is already there alone:
#   create-database  an existing database is not an error
#   setup-schema     creates the version table; a schema already above 0.0 keeps its version
#   update-schema    applies only the versions not applied yet
set -eu
: "${POSTGRES_SEEDS:?the PostgreSQL host}" "${POSTGRES_USER:?Temporal's role}" "${SQL_PASSWORD:?its password}"
port=${DB_PORT:-5432}
schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"
}

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  database=${pair%%:*}
  schema=${pair#*:}
  echo "schema job: $database ($schema)"
  sql_tool --db "$database" create-database
  sql_tool --db "$database" setup-schema -v 0.0
  sql_tool --db "$database" update-schema -d "$schemas/$schema/versioned"
done
echo "schema job: done"
