-- 009_session_check: what the C library needs to tell, cheaply, whether a
-- pooled connection still needs the targeted reset after a unit of work.
-- The one-round-trip path (lib/pipeline.c) runs the check after the unit's
-- commit, in the same network round trip: when everything the reset would
-- restore is at its reset state, the pool lends the connection again
-- without running api.clear_context() at all.
--
-- "Clean" is exactly the coverage of the pool's targeted reset
-- (RESET SESSION AUTHORIZATION; RESET ROLE; SELECT api.clear_context()):
--   * current_user is the session user (no SET ROLE left behind);
--   * every context variable (private.context_variable_names()) is unset,
--     except myapp.loaded_settings when in_settings_loaded is true (the pool's
--     baseline then includes the settings api.init_connection() loaded);
--   * every myapp.* variable with a role or database default holds that
--     default (names and values from private.session_role_defaults(), read
--     once per connection: a session's defaults are fixed when it starts).
-- session_authorization and application_name are reported to the client by
-- the server (ParameterStatus), so the library checks those itself.
-- When in doubt the answer is false: the cost is one reset, never a leak.

-- The myapp.* role and database defaults in force for this session.
CREATE OR REPLACE FUNCTION private.session_role_defaults(
    OUT names text[],
    OUT "values" text[])
LANGUAGE sql
STABLE
AS $$
    SELECT COALESCE(array_agg(split_part(cfg, '=', 1) ORDER BY cfg), '{}'),
           COALESCE(array_agg(substr(cfg, strpos(cfg, '=') + 1) ORDER BY cfg), '{}')
    FROM pg_catalog.pg_db_role_setting AS d,
         unnest(d.setconfig) AS cfg
    WHERE d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                WHERE datname = current_database()))
      AND d.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles
                            WHERE rolname = session_user))
      AND lower(cfg) LIKE 'myapp.%';
$$;

-- No loop and no catalog access.  PL/pgSQL, not SQL: an inlined SQL
-- function is planned again on every call of a parameterized statement
-- (the plan cache keeps custom plans for it), while PL/pgSQL keeps its plan.
-- The context names are spelt out (a pgTAP test checks they match
-- private.context_variable_names()).
CREATE OR REPLACE FUNCTION private.session_is_clean(
    in_settings_loaded boolean DEFAULT false,
    in_default_names   text[]  DEFAULT '{}',
    in_default_values  text[]  DEFAULT '{}')
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    RETURN current_user = session_user
       AND concat(current_setting('myapp.current_user_id', true),
                  current_setting('myapp.current_tenant_id', true),
                  current_setting('myapp.current_role', true),
                  current_setting('myapp.session_id', true),
                  current_setting('myapp.context_metadata', true),
                  current_setting('myapp.context_created_at', true),
                  current_setting('myapp.audit_context', true),
                  current_setting('myapp.original_user_id', true),
                  current_setting('myapp.original_role', true),
                  current_setting('myapp.is_impersonating', true)) = ''
       AND (COALESCE(in_settings_loaded, false)
            OR COALESCE(current_setting('myapp.loaded_settings', true), '') = '')
       AND NOT EXISTS (
           SELECT 1
           FROM unnest(in_default_names, in_default_values) AS d(name, value)
           WHERE current_setting(d.name, true) IS DISTINCT FROM d.value);
END;
$$;

-- The application role got EXECUTE on the functions that existed when
-- setup_app_role() last ran; the installer runs it again after migrations.
