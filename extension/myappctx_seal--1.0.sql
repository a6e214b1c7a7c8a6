-- myappctx_seal 1.0: context variables that only a MAC can set.
-- extension/README.md is the specification (wire format, replay rule,
-- SQLSTATEs, key handling).  Everything lives in schema myappctx_seal,
-- created by CREATE EXTENSION; nothing of the library's schema (sql/) is
-- replaced: the functions at the end are the sealed counterparts of the
-- schema's setters, which fail closed (42501) once the variables are
-- superuser-only.  Plain CREATE, not CREATE OR REPLACE: an extension script
-- must not adopt objects someone else created first.
\echo Use "CREATE EXTENSION myappctx_seal" to load this file. \quit

-- ---------------------------------------------------------------- C ----

-- A new stream for this connection: 16 random bytes, known to this server
-- (shared_preload_libraries) or backend (session_preload_libraries), owned
-- by this database and login role, bound to this backend when
-- in_bind_backend.  in_mac = HMAC(key, "myappctx_seal/v1/open",
-- "backend" | "any").  Refuses login roles that could forge context or read
-- the key (MX006).
CREATE FUNCTION myappctx_seal.open_stream(in_bind_backend boolean, in_mac bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'myappctx_seal_open_stream'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- The verifier: sets the context if in_mac is the HMAC of every other
-- argument (README.md, "Wire format") and in_counter is above the stream's
-- last accepted counter.  Transaction-local when in_is_local, else
-- session-level (bound streams only).  Not STRICT on purpose: a strict
-- function returning void skips a call with a NULL argument and reports
-- success; here a NULL is an error (MX005) and '' is an absent field.
CREATE FUNCTION myappctx_seal.set_context(
    in_stream       bytea,
    in_counter      bigint,
    in_is_local     boolean,
    in_user_id      text,
    in_tenant_id    text,
    in_role         text,
    in_session_id   text,
    in_metadata     text,
    in_audit_reason text,
    in_audit_ticket text,
    in_mac          bytea)
RETURNS void
AS 'MODULE_PATHNAME', 'myappctx_seal_set_context'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- RESETs every myapp.* parameter (context variables and declared
-- settings).  Returns how many.
CREATE FUNCTION myappctx_seal.reset_variables()
RETURNS integer
AS 'MODULE_PATHNAME', 'myappctx_seal_reset_variables'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- Sets myapp.<key> (session-level, the caller's rights) for every declared
-- key and records the keys in myapp.loaded_settings; undeclared keys are
-- skipped with a WARNING.  Returns how many were set.
CREATE FUNCTION myappctx_seal.apply_settings(in_keys text[], in_values text[])
RETURNS integer
AS 'MODULE_PATHNAME', 'myappctx_seal_apply_settings'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- mode: shared | backend | inert; key_id: a fingerprint of the key
-- (HMAC(key, "myappctx_seal/v1/key_id"), 8 bytes hex), NULL without a key.
-- PARALLEL RESTRICTED: a parallel worker loads the library on demand
-- (inert) and would report its own state, not the session's.
CREATE FUNCTION myappctx_seal.status(
    OUT mode        text,
    OUT key_loaded  boolean,
    OUT key_id      text,
    OUT streams     integer,
    OUT max_streams integer)
RETURNS record
AS 'MODULE_PATHNAME', 'myappctx_seal_status'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

-- ---------------------------------------- sealed counterparts (plpgsql) ----
-- SECURITY INVOKER, like the functions they stand for: they run with the
-- application role's rights and name every object with its schema.

-- For api.clear_context(): ends an active impersonation (closing its log
-- row through api.end_impersonation(), a SECURITY DEFINER function of the
-- schema, whose owner may set the variables), then RESETs every myapp.*
-- parameter and application_name.  Complete, unlike the pure-SQL reset:
-- with the prefix reserved there is no myapp.* name the reset cannot see.
CREATE FUNCTION myappctx_seal.clear_context()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF NULLIF(current_setting('myapp.original_user_id', true), '') IS NOT NULL THEN
        BEGIN
            PERFORM api.end_impersonation();
        EXCEPTION WHEN SQLSTATE 'P0056' OR data_exception THEN
            NULL;
        END;
    END IF;
    PERFORM myappctx_seal.reset_variables();
    RESET application_name;
END;
$$;

-- For api.load_app_settings(): the same rows (valid keys, ordered by key),
-- set through apply_settings().
CREATE FUNCTION myappctx_seal.load_app_settings()
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    l_keys   text[];
    l_values text[];
BEGIN
    SELECT COALESCE(array_agg(s.key ORDER BY s.key), '{}'),
           COALESCE(array_agg(s.value ORDER BY s.key), '{}')
    INTO l_keys, l_values
    FROM data.app_settings AS s
    WHERE private.is_valid_setting_key(s.key);
    RETURN myappctx_seal.apply_settings(l_keys, l_values);
END;
$$;

-- For api.init_connection(): the same steps with the sealed settings loader.
CREATE FUNCTION myappctx_seal.init_connection()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM myappctx_seal.load_app_settings();

    PERFORM set_config('timezone', 'UTC', false);
    PERFORM set_config('datestyle', 'ISO, MDY', false);

    INSERT INTO data.connection_log (
        connected_at,
        client_addr,
        application_name,
        backend_pid
    ) VALUES (
        now(),
        inet_client_addr(),
        current_setting('application_name', true),
        pg_backend_pid()
    );
END;
$$;

-- For private.begin_pooled_unit() (sql/010_plpgsql_check.sql): the same
-- clean check and reset, then the sealed transaction-local context.  The
-- first ten arguments are set_context()'s without in_is_local (a pooled
-- unit is always transaction-local; the MAC covers scope "local"); the last
-- five are begin_pooled_unit()'s clean-check arguments.  Returns true when
-- it had to reset.  If the MAC fails, the error aborts the unit and rolls
-- the reset back with it.
CREATE FUNCTION myappctx_seal.begin_pooled_unit(
    in_stream          bytea,
    in_counter         bigint,
    in_user_id         text,
    in_tenant_id       text,
    in_role            text,
    in_session_id      text,
    in_metadata        text,
    in_audit_reason    text,
    in_audit_ticket    text,
    in_mac             bytea,
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
        PERFORM myappctx_seal.clear_context();
        IF in_settings_loaded THEN
            PERFORM myappctx_seal.load_app_settings();
        END IF;
    END IF;
    PERFORM myappctx_seal.set_context(in_stream, in_counter, true,
        in_user_id, in_tenant_id, in_role, in_session_id, in_metadata,
        in_audit_reason, in_audit_ticket, in_mac);
    RETURN l_dirty;
END;
$$;

-- Every function is safe for PUBLIC: the setters need a MAC, the rest only
-- clear context or set user-settable settings.
GRANT USAGE ON SCHEMA myappctx_seal TO PUBLIC;
