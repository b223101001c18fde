-- Runs once, as the postgres superuser, when the postgres container starts on an empty volume
-- (docker-entrypoint-initdb.d). The same statements as README.md's "PostgreSQL roles": the schema
-- owner that runs the migrations, and the application role that owns nothing, so row-level
-- security applies to everything it does. The passwords come from the container's environment
-- (psql 15's \getenv); an unset one leaves :'…' unexpanded and the script stops with an error.
\set ON_ERROR_STOP on
\getenv owner_password RENDA_OWNER_PASSWORD
\getenv app_password RENDA_APP_PASSWORD

CREATE ROLE renda_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE renda_app   LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE renda OWNER renda_owner;
REVOKE ALL ON DATABASE renda FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE renda TO renda_app;

\connect renda
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO renda_owner;
