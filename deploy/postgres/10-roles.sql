-- Run once by the postgres image, as its superuser, when the data volume is first initialised
-- (/docker-entrypoint-initdb.d). Two roles, so neither service can touch the other's data:
--   temporal: Temporal's own; CREATEDB because the schema job (deploy/temporal-schema.sh) creates
--             and owns its two databases, temporal and temporal_visibility, as temporal-sql-tool does.
--   qsaf:     the app's; owns the qsaf database and nothing else.
-- Passwords come from the container's environment (\getenv), never from this file.
\getenv temporal_password TEMPORAL_DB_PASSWORD
\getenv qsaf_password QSAF_DB_PASSWORD

SELECT format('CREATE ROLE temporal LOGIN CREATEDB PASSWORD %L', :'temporal_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec
SELECT format('CREATE ROLE qsaf LOGIN PASSWORD %L', :'qsaf_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qsaf') \gexec

SELECT 'CREATE DATABASE qsaf OWNER qsaf'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'qsaf') \gexec
-- Only its owner connects: Temporal's role has no business in the app's database.
REVOKE ALL ON DATABASE qsaf FROM PUBLIC;
