-- 011_schema_version: api.schema_version(), the highest core migration
-- installed, for the library's check that the schema matches it
-- (myappctx_schema_check(), the pool's check_schema) from any role the
-- installer set up.  myappctx.schema_migrations stays closed to those
-- roles (008_app_role.sql revokes schema myappctx from them); this
-- function reads that one number for them.  A database without it is not
-- installed, or older than version 11: the library then says so.

CREATE OR REPLACE FUNCTION api.schema_version()
RETURNS integer
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE(max(m.version), 0)
    FROM myappctx.schema_migrations AS m
    WHERE m.kind = 'core'
$$;

-- Granted to the application role by myappctx.setup_app_role() (every
-- function of api), which the installer runs after the migrations.
REVOKE EXECUTE ON FUNCTION api.schema_version() FROM PUBLIC;
