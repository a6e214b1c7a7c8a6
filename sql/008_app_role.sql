-- 008_app_role: myappctx.setup_app_role(), which creates or adopts the
-- application's login role, applies its defaults and grants it least
-- privilege. The installer calls it as a superuser after the migrations, with
-- the role name as a bound parameter; it is idempotent, and must be run again
-- after a migration adds functions (EXECUTE is granted on the functions that
-- exist at the time).
--
-- What the app role gets (and nothing else from this schema):
--   role attributes   LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
--                     NOBYPASSRLS when created here; an existing superuser or
--                     BYPASSRLS role is refused (P0058)
--   role defaults     search_path = api, pg_temp
--                     statement_timeout = '30s'
--                     lock_timeout = '10s'
--                     idle_in_transaction_session_timeout = '60s'
--                     timezone = 'UTC'
--                     myapp.default_page_size = '25'
--   schemas           USAGE on api, private, data
--   functions         EXECUTE on every function in api and private (including
--                     the SECURITY DEFINER ones, which PUBLIC cannot execute)
--   views             SELECT on api.v_connection_stats
--   data.app_settings SELECT, INSERT, UPDATE (no DELETE, no TRUNCATE)
--   data.connection_log INSERT, and USAGE on data.connection_log_id_seq
--   nothing on        schema app_audit, app_audit.impersonation_log (and its
--                     sequence), data.rate_limits, data.users,
--                     data.user_tenants, data.email_outbox, schema myappctx;
--                     those are reached only through SECURITY DEFINER
--                     functions. Rights on app_audit and data.rate_limits are
--                     actively revoked on every run.
--
-- search_path = api, pg_temp breaks nothing here: pg_catalog is still searched
-- first, every function body and RLS policy names private.* and data.*
-- objects with their schema, and defaults and constraints are stored by OID.
-- Application SQL must qualify data.* and private.* names the same way.
--
-- Setting myapp.default_page_size as a role default needs a superuser (or SET
-- privilege on that parameter) on PostgreSQL 15.

CREATE OR REPLACE FUNCTION myappctx.setup_app_role(
    in_role     name,
    in_create   boolean DEFAULT true
)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_is_super  boolean;
    l_bypass    boolean;
BEGIN
    IF in_role IS NULL OR in_role = '' THEN
        RAISE EXCEPTION 'in_role must not be empty'
            USING ERRCODE = 'P0058';
    END IF;
    IF in_create IS NULL THEN
        RAISE EXCEPTION 'in_create must not be NULL'
            USING ERRCODE = 'P0058';
    END IF;
    IF in_role IN ('public', 'none') OR starts_with(in_role, 'pg_') THEN
        RAISE EXCEPTION 'role name % is reserved', in_role
            USING ERRCODE = 'P0058';
    END IF;

    SELECT r.rolsuper, r.rolbypassrls INTO l_is_super, l_bypass
    FROM pg_catalog.pg_roles AS r
    WHERE r.rolname = in_role;

    IF NOT FOUND THEN
        IF NOT in_create THEN
            RAISE EXCEPTION 'role % does not exist', in_role
                USING ERRCODE = 'P0058';
        END IF;
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
                       ' NOREPLICATION NOBYPASSRLS', in_role);
    ELSIF l_is_super THEN
        RAISE EXCEPTION 'role % is a superuser; the application role must not be', in_role
            USING ERRCODE = 'P0058';
    ELSIF l_bypass THEN
        -- It would see every tenant's rows despite row-level security.
        RAISE EXCEPTION 'role % has BYPASSRLS; the application role must not', in_role
            USING ERRCODE = 'P0058';
    END IF;

    EXECUTE format('ALTER ROLE %I SET search_path = api, pg_temp', in_role);
    EXECUTE format('ALTER ROLE %I SET statement_timeout = ''30s''', in_role);
    EXECUTE format('ALTER ROLE %I SET lock_timeout = ''10s''', in_role);
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = ''60s''', in_role);
    EXECUTE format('ALTER ROLE %I SET timezone = ''UTC''', in_role);
    EXECUTE format('ALTER ROLE %I SET myapp.default_page_size = ''25''', in_role);

    EXECUTE format('GRANT USAGE ON SCHEMA api, private, data TO %I', in_role);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api, private TO %I', in_role);
    EXECUTE format('GRANT SELECT ON api.v_connection_stats TO %I', in_role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON data.app_settings TO %I', in_role);
    EXECUTE format('GRANT INSERT ON data.connection_log TO %I', in_role);
    EXECUTE format('GRANT USAGE ON SEQUENCE data.connection_log_id_seq TO %I', in_role);

    EXECUTE format('REVOKE ALL ON SCHEMA app_audit, myappctx FROM %I', in_role);
    EXECUTE format('REVOKE ALL ON app_audit.impersonation_log, data.rate_limits FROM %I', in_role);
    EXECUTE format('REVOKE ALL ON SEQUENCE app_audit.impersonation_log_id_seq FROM %I', in_role);
END;
$$;
REVOKE EXECUTE ON FUNCTION myappctx.setup_app_role(name, boolean) FROM PUBLIC;
