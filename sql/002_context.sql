-- 002_context: the application context (user, tenant, role, session id,
-- metadata) held in myapp.* session variables: readers, setters, clearing,
-- and the context requirement.
--
-- Readers are LANGUAGE sql and STABLE, never IMMUTABLE: an IMMUTABLE reader
-- could be folded into a cached plan and keep an old tenant. A custom variable
-- reads back as '' (not NULL) once it has existed in a session, so every
-- reader treats '' as unset. They are PARALLEL SAFE like current_setting()
-- itself (parallel workers receive the leader's variables).

CREATE OR REPLACE FUNCTION private.get_current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('myapp.current_user_id', true), '')::uuid;
$$;

CREATE OR REPLACE FUNCTION private.get_current_tenant_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('myapp.current_tenant_id', true), '')::uuid;
$$;

CREATE OR REPLACE FUNCTION private.get_current_role()
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('myapp.current_role', true), '');
$$;

-- The audit context is written by api.set_audit_context() (003_audit.sql);
-- its reader lives here because api.get_context() below uses it.
CREATE OR REPLACE FUNCTION private.get_audit_context()
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('myapp.audit_context', true), '')::jsonb;
$$;

-- The admin behind an impersonation (006_security.sql), NULL otherwise.
CREATE OR REPLACE FUNCTION private.get_original_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('myapp.original_user_id', true), '')::uuid;
$$;

-- One definition of "impersonating" for every function that asks: an original
-- user is recorded (that is what api.end_impersonation() must restore).
-- myapp.is_impersonating is only a flag for readers of the raw variables.
CREATE OR REPLACE FUNCTION private.is_impersonating()
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('myapp.original_user_id', true), '') IS NOT NULL;
$$;

-- The whole context as one object; unset parts are JSON null.
CREATE OR REPLACE FUNCTION api.get_context()
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT jsonb_build_object(
        'user_id',          private.get_current_user_id(),
        'tenant_id',        private.get_current_tenant_id(),
        'role',             private.get_current_role(),
        'session_id',       NULLIF(current_setting('myapp.session_id', true), ''),
        'metadata',         NULLIF(current_setting('myapp.context_metadata', true), '')::jsonb,
        'created_at',       NULLIF(current_setting('myapp.context_created_at', true), '')::timestamptz,
        'is_impersonating', private.is_impersonating(),
        'original_user_id', private.get_original_user_id(),
        'audit',            private.get_audit_context()
    );
$$;

-- Session-scoped context (set_config(..., false)): it lasts until the
-- connection closes or api.clear_context() runs, so it must not be used
-- behind a transaction-mode pooler.
CREATE OR REPLACE FUNCTION api.set_context(
    in_user_id      uuid,
    in_tenant_id    uuid DEFAULT NULL,
    in_role         text DEFAULT 'user',
    in_session_id   text DEFAULT NULL,
    in_metadata     jsonb DEFAULT '{}'
)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF in_user_id IS NULL THEN
        RAISE EXCEPTION 'in_user_id must not be NULL'
            USING ERRCODE = 'P0058';
    END IF;

    -- Refuse rather than overwrite: silently replacing the impersonated user
    -- would leave the impersonation log row open and the admin unrecorded.
    IF private.is_impersonating() THEN
        RAISE EXCEPTION 'Cannot set a new context while impersonating'
            USING ERRCODE = 'P0055',
                  HINT = 'Call api.end_impersonation() or api.clear_context() first.';
    END IF;

    PERFORM set_config('myapp.current_user_id', in_user_id::text, false);
    PERFORM set_config('myapp.current_tenant_id', COALESCE(in_tenant_id::text, ''), false);
    PERFORM set_config('myapp.current_role', COALESCE(in_role, ''), false);
    PERFORM set_config('myapp.session_id', COALESCE(in_session_id, ''), false);
    PERFORM set_config('myapp.context_metadata', COALESCE(in_metadata, '{}'::jsonb)::text, false);
    -- SPEC FIX: now()::text depends on DateStyle and may not parse back after a
    -- DateStyle change; the JSON rendering is always ISO 8601.
    PERFORM set_config('myapp.context_created_at', to_jsonb(now()) #>> '{}', false);
    -- SPEC FIX: application_name holds at most 63 bytes; the spec's string
    -- (92 with a tenant) was cut by the server with a NOTICE on every call.
    -- We cut it ourselves: same value, no NOTICE (the tenant keeps 7 chars).
    PERFORM set_config('application_name',
        left(format('myapp[user=%s,tenant=%s]', in_user_id, in_tenant_id), 63),
        false);
END;
$$;

-- Transaction-scoped context (set_config(..., true)) for pooled connections.
-- Outside a transaction block it vanishes at the end of the statement; the
-- C library guards against that.
CREATE OR REPLACE FUNCTION api.set_transaction_context(
    in_user_id      uuid,
    in_tenant_id    uuid DEFAULT NULL,
    in_role         text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF in_user_id IS NULL THEN
        RAISE EXCEPTION 'in_user_id must not be NULL'
            USING ERRCODE = 'P0058';
    END IF;

    -- Same reason as in api.set_context(): an impersonation must not be
    -- masked by another identity, even for one transaction.
    IF private.is_impersonating() THEN
        RAISE EXCEPTION 'Cannot set a new context while impersonating'
            USING ERRCODE = 'P0055',
                  HINT = 'Call api.end_impersonation() or api.clear_context() first.';
    END IF;

    PERFORM set_config('myapp.current_user_id', in_user_id::text, true);
    PERFORM set_config('myapp.current_tenant_id', COALESCE(in_tenant_id::text, ''), true);
    IF in_role IS NOT NULL THEN
        PERFORM set_config('myapp.current_role', in_role, true);
    END IF;
END;
$$;

-- Back to a context-free connection: ends an active impersonation (closing
-- its log row through api.end_impersonation(), so this function needs no
-- rights of its own on the log), then RESETs every myapp.* variable it can
-- name, so that defaults (e.g. a role's myapp.default_page_size) come back.
--
-- PostgreSQL 15 hides placeholder variables (any myapp.* not defined by a
-- loaded module) from pg_settings and SHOW ALL, so there is no way to list
-- "every myapp.* variable the session has"; scanning pg_settings anyway would
-- cost ~0.8 ms per call on the pool's release path and find nothing. The names
-- reset are: the context names, the app settings loaded by
-- api.load_app_settings() (tracked in myapp.loaded_settings), and the myapp.*
-- names that carry role or database defaults for this session. A variable the
-- application invented with set_config() and never told us about is not
-- reset; DISCARD ALL does that.
CREATE OR REPLACE FUNCTION api.clear_context()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- A reset must not fail on forged state: an impersonation that was
    -- never logged (P0056) or variables that do not parse (class 22) are
    -- simply cleared below.
    IF private.is_impersonating() THEN
        BEGIN
            PERFORM api.end_impersonation();
        EXCEPTION WHEN SQLSTATE 'P0056' OR data_exception THEN
            NULL;
        END;
    END IF;

    -- set_config(name, NULL, ...) is a RESET request (set_config is not
    -- strict for this reason): the role/startup default comes back, and
    -- names need no quoting, unlike RESET built with EXECUTE (several times
    -- slower on this hot path).
    PERFORM set_config(n.name, NULL, false)
    FROM (
        SELECT 'myapp.' || c
        FROM unnest(private.context_variable_names()) AS c
        UNION
        SELECT 'myapp.' || k
        FROM unnest(string_to_array(
                 NULLIF(current_setting('myapp.loaded_settings', true), ''), ',')) AS k
        WHERE private.is_valid_setting_key(k)
        UNION
        SELECT split_part(cfg, '=', 1)
        FROM pg_catalog.pg_db_role_setting AS d,
             unnest(d.setconfig) AS cfg
        WHERE d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                    WHERE datname = current_database()))
          AND d.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles
                                WHERE rolname = session_user))
          AND lower(cfg) LIKE 'myapp.%'
    ) AS n(name);

    RESET application_name;
END;
$$;

CREATE OR REPLACE FUNCTION private.require_context()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF private.get_current_user_id() IS NULL THEN
        RAISE EXCEPTION 'User context not set. Call api.set_context() first.'
            USING ERRCODE = 'P0050';
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION api.get_my_profile()
RETURNS TABLE (id uuid, email text, name text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = data, private, pg_temp
AS $$
DECLARE
    l_user_id uuid;
BEGIN
    PERFORM private.require_context();
    l_user_id := private.get_current_user_id();

    RETURN QUERY
    SELECT u.id, u.email, u.name
    FROM data.users AS u
    WHERE u.id = l_user_id;
END;
$$;
REVOKE EXECUTE ON FUNCTION api.get_my_profile() FROM PUBLIC;
