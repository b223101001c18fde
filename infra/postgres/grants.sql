-- After every `renda db upgrade`, as renda_owner (README.md, "PostgreSQL roles"): what the
-- application role may do, and no more. infra/migrate.sh runs it statement by statement.
GRANT USAGE ON SCHEMA public TO renda_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO renda_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO renda_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO renda_app;
-- the audit log is append-only
REVOKE UPDATE, DELETE ON audit_log FROM renda_app;
-- the migrations are the owner's
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM renda_app;
