-- 009_session_check: a pooled connection's one-round-trip unit of work
-- (lib/pipeline.c) starts with private.begin_pooled_unit(), which checks
-- cheaply whether the session still carries anything the pool's targeted
-- reset would restore -- left by the previous borrower -- resets it only
-- then, inside the unit's own transaction, and sets the unit's
-- transaction-local context.  So a pooled fast-path unit never pays a
-- separate reset round trip, and pays the reset's server work only when the
-- session really is dirty.
--
-- "Clean" is exactly the coverage of the pool's targeted reset
-- (RESET SESSION AUTHORIZATION; RESET ROLE; SELECT api.clear_context()):
--   * current_user is the session user (no SET ROLE left behind);
--   * every context variable (private.context_variable_names()) is unset,
--     except myapp.loaded_settings when in_settings_loaded is true (the pool's
--     baseline then includes the settings api.init_connection() loaded);
--   * every myapp.* variable of the session's baseline (role and database
--     defaults, and the settings the pool loaded: private.session_baseline(),
--     read once per connection) holds its baseline value.
-- begin_pooled_unit() also compares session_user and application_name with
-- the values the connection started with.  When in doubt the answer is
-- "dirty": the cost is one reset, never a leak.

-- The session's baseline of myapp.* variables that are not context: the
-- role and database defaults in force for it and, when settings have been
-- loaded (the pool's on_connect step does), myapp.loaded_settings and every
-- loaded setting with its value.  The pool reads it once per connection,
-- right after connecting; a session's defaults are fixed when it starts.
-- A loaded setting changed later (even by a reload after the settings table
-- changed) reads as dirty: one reset too many, never a leak.
CREATE OR REPLACE FUNCTION private.session_baseline(
    OUT names text[],
    OUT "values" text[])
LANGUAGE sql
STABLE
AS $$
    WITH baseline(name, value) AS (
        SELECT split_part(cfg, '=', 1), substr(cfg, strpos(cfg, '=') + 1)
        FROM pg_catalog.pg_db_role_setting AS d,
             unnest(d.setconfig) AS cfg
        WHERE d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                    WHERE datname = current_database()))
          AND d.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles
                                WHERE rolname = session_user))
          AND lower(cfg) LIKE 'myapp.%'
        UNION ALL
        SELECT 'myapp.loaded_settings', current_setting('myapp.loaded_settings', true)
        WHERE COALESCE(current_setting('myapp.loaded_settings', true), '') <> ''
        UNION ALL
        SELECT 'myapp.' || k, current_setting('myapp.' || k, true)
        FROM unnest(string_to_array(
                 NULLIF(current_setting('myapp.loaded_settings', true), ''), ',')) AS k
        WHERE private.is_valid_setting_key(k)
    )
    SELECT COALESCE(array_agg(name ORDER BY name), '{}'),
           COALESCE(array_agg(value ORDER BY name), '{}')
    FROM baseline;
$$;

-- No catalog access and no query: only simple expressions, which PL/pgSQL
-- evaluates without the executor (an EXISTS over unnest() here cost ~25 us
-- a call; this costs a few).  The context names are spelt out (a pgTAP test
-- checks they match private.context_variable_names()).
CREATE OR REPLACE FUNCTION private.session_is_clean(
    in_settings_loaded boolean DEFAULT false,
    in_default_names   text[]  DEFAULT '{}',
    in_default_values  text[]  DEFAULT '{}')
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF current_user <> session_user
       OR concat(current_setting('myapp.current_user_id', true),
                 current_setting('myapp.current_tenant_id', true),
                 current_setting('myapp.current_role', true),
                 current_setting('myapp.session_id', true),
                 current_setting('myapp.context_metadata', true),
                 current_setting('myapp.context_created_at', true),
                 current_setting('myapp.audit_context', true),
                 current_setting('myapp.original_user_id', true),
                 current_setting('myapp.original_role', true),
                 current_setting('myapp.is_impersonating', true)) <> ''
       OR (NOT COALESCE(in_settings_loaded, false)
           AND COALESCE(current_setting('myapp.loaded_settings', true), '') <> '') THEN
        RETURN false;
    END IF;
    FOR i IN 1 .. COALESCE(array_length(in_default_names, 1), 0) LOOP
        IF current_setting(in_default_names[i], true) IS DISTINCT FROM in_default_values[i] THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END;
$$;

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
    l_ignored text;
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
    -- clean (or just reset) session is not impersonating.  Assignments, not
    -- PERFORM: PL/pgSQL evaluates them as simple expressions, without a
    -- query per call (this function runs once per pooled unit of work).
    IF in_user_id IS NULL THEN
        RAISE EXCEPTION 'in_user_id must not be NULL' USING ERRCODE = 'P0058';
    END IF;
    l_ignored := set_config('myapp.current_user_id', in_user_id::text, true);
    l_ignored := set_config('myapp.current_tenant_id', COALESCE(in_tenant_id::text, ''), true);
    IF in_role IS NOT NULL THEN
        l_ignored := set_config('myapp.current_role', in_role, true);
    END IF;
    RETURN l_dirty;
END;
$$;

-- The application role got EXECUTE on the functions that existed when
-- setup_app_role() last ran; the installer runs it again after migrations.
