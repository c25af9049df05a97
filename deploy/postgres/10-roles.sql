-- Run once by the postgres image, as its superuser, when the data volume is first initialised
-- (/docker-entrypoint-initdb.d). Three roles, so no service can touch another's data, and the app
-- cannot rewrite its own record:
--   temporal:   Temporal's own; CREATEDB because the schema job (deploy/temporal-schema.sh) creates
--               and owns its two databases, temporal and temporal_visibility, as temporal-sql-tool does.
--   qsaf_owner: owns the qsaf database and every table in it. Only the `migrate` job connects as
--               it: an owner may alter a table, drop its triggers, and so rewrite the action log.
--   qsaf:       the app's (worker, API): rows in, out and changed as the migrations grant, but
--               only added to and read from the action log (migrations/versions/0019_retention.py);
--               it owns nothing, so it can neither alter a table nor drop a trigger.
-- Passwords come from the container's environment (\getenv), never from this file.
\getenv temporal_password TEMPORAL_DB_PASSWORD
\getenv owner_password QSAF_OWNER_DB_PASSWORD
\getenv qsaf_password QSAF_DB_PASSWORD

SELECT format('CREATE ROLE temporal LOGIN CREATEDB PASSWORD %L', :'temporal_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec
SELECT format('CREATE ROLE qsaf_owner LOGIN PASSWORD %L', :'owner_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qsaf_owner') \gexec
SELECT format('CREATE ROLE qsaf LOGIN PASSWORD %L', :'qsaf_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qsaf') \gexec

SELECT 'CREATE DATABASE qsaf OWNER qsaf_owner'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'qsaf') \gexec
-- Only these two connect: Temporal's role has no business in the app's database.
REVOKE ALL ON DATABASE qsaf FROM PUBLIC;
GRANT CONNECT ON DATABASE qsaf TO qsaf;

\connect qsaf
-- Only the owner creates objects (PostgreSQL 15 and later already keep it so).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO qsaf;
-- What the owner's migrations create, now and in every later revision, the app may use; 0019
-- then takes UPDATE, DELETE and TRUNCATE on the action log (and its purge counts) back from it.
ALTER DEFAULT PRIVILEGES FOR ROLE qsaf_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO qsaf;
ALTER DEFAULT PRIVILEGES FOR ROLE qsaf_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO qsaf;
