-- 010_plpgsql_check: what plpgsql_check (extra, performance and security
-- warnings; tests/sql/plpgsql_check.sql) found in the released migrations.
-- 001-009 are frozen (docs/migrations.md), so the fixed functions are
-- replaced here: same signatures, attributes, owner and grants, same
-- behaviour.
--
-- private.begin_pooled_unit() (009_session_check.sql): "never read variable
-- l_ignored".  009 assigned set_config()'s result to a variable nobody reads
-- so that PL/pgSQL would evaluate each call as a simple expression, without
-- the query per statement that PERFORM runs (about 1 us each on PostgreSQL
-- 15; this function runs once per pooled unit of work).  The calls now sit in
-- IF conditions, which PL/pgSQL evaluates the same way, and no variable is
-- left unread.

-- Starts a pooled unit of work: reset the session if (and only if) it is
-- dirty, then set the transaction-local context.  Runs inside the unit's
-- implicit transaction, so a reset done here commits with the unit or is
-- rolled back with it (and the C library keeps it pending).  Returns true
-- when it had to reset.  Not SECURITY DEFINER: RESET SESSION AUTHORIZATION
-- is refused there, and the reset must run with the session's own rights.
CREATE OR REPLACE FUNCTION private.begin_pooled_unit(
    in_user_id         uuid,
    in_tenant_id       uuid,
    in_role            text,
    in_settings_loaded boolean,
    in_default_names   text[],
    in_default_values  text[],
    in_login_role      text,
    in_app_name        text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
    l_dirty boolean;
BEGIN
    l_dirty := session_user IS DISTINCT FROM in_login_role
        OR current_setting('application_name') IS DISTINCT FROM in_app_name
        OR NOT private.session_is_clean(in_settings_loaded, in_default_names, in_default_values);
    IF l_dirty THEN
        RESET SESSION AUTHORIZATION;
        RESET ROLE;
        PERFORM api.clear_context();
        IF in_settings_loaded THEN
            PERFORM api.load_app_settings();
        END IF;
    END IF;
    -- api.set_transaction_context() without its impersonation check: a
    -- clean (or just reset) session is not impersonating.  set_config() is
    -- called in IF conditions, not by PERFORM: PL/pgSQL evaluates them as
    -- simple expressions, without a query per call.  set_config() returns
    -- the value it has set, never NULL, so the RAISEs below are not reached.
    IF in_user_id IS NULL THEN
        RAISE EXCEPTION 'in_user_id must not be NULL' USING ERRCODE = 'P0058';
    END IF;
    IF set_config('myapp.current_user_id', in_user_id::text, true) IS NULL
       OR set_config('myapp.current_tenant_id', COALESCE(in_tenant_id::text, ''), true) IS NULL THEN
        RAISE EXCEPTION 'set_config() returned NULL' USING ERRCODE = 'XX000';
    END IF;
    IF in_role IS NOT NULL THEN
        IF set_config('myapp.current_role', in_role, true) IS NULL THEN
            RAISE EXCEPTION 'set_config() returned NULL' USING ERRCODE = 'XX000';
        END IF;
    END IF;
    RETURN l_dirty;
END;
$$;
