-- 006_security: tenant checks and impersonation.
--
-- Impersonation state lives in session variables:
--   myapp.original_user_id  the admin (set <=> impersonating)
--   myapp.original_role     the admin's context role, restored at the end
--   myapp.is_impersonating  'true' / 'false', informational
-- The log (app_audit.impersonation_log) is written only by the SECURITY
-- DEFINER functions below; the app role has no rights on it.
--
-- Limit (inherent to GUC-based context): the app role can still call
-- set_config() on myapp.* itself. These functions make the API fail closed;
-- they cannot stop a client that bypasses the API.

CREATE OR REPLACE FUNCTION private.require_tenant_context()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF private.get_current_tenant_id() IS NULL THEN
        RAISE EXCEPTION 'Tenant context not set'
            USING ERRCODE = 'P0051';
    END IF;
END;
$$;

-- SECURITY DEFINER so that the app role needs no SELECT on data.user_tenants.
-- SPEC FIX: the spec ran the membership test with a NULL user or tenant and
-- reported P0052; missing context now raises P0050 / P0051.
CREATE OR REPLACE FUNCTION private.verify_user_tenant_access()
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM private.require_context();
    PERFORM private.require_tenant_context();

    IF NOT EXISTS (
        SELECT 1
        FROM data.user_tenants AS ut
        WHERE ut.user_id = private.get_current_user_id()
          AND ut.tenant_id = private.get_current_tenant_id()
          AND ut.is_active
    ) THEN
        RAISE EXCEPTION 'User does not have access to tenant'
            USING ERRCODE = 'P0052';
    END IF;

    RETURN true;
END;
$$;
REVOKE EXECUTE ON FUNCTION private.verify_user_tenant_access() FROM PUBLIC;

-- Session-scoped like the spec. Checks run in this order:
--   P0050 no user context
--   P0055 already impersonating (nested impersonation is refused)
--   P0053 current user unknown, without a role, or not 'admin'
--   P0057 target NULL or unknown
--   P0058 target is the current user
-- SPEC FIX: the spec's "IF NOT l_is_admin" is NULL, not true, for an unknown
-- user or a NULL role, and let them through; "IS DISTINCT FROM 'admin'" fails
-- closed.
-- SPEC FIX: the context role becomes the target's data.users.role (unset when
-- NULL) so that the admin acts with the target's role, not with 'admin'; the
-- admin's role is restored by api.end_impersonation().
CREATE OR REPLACE FUNCTION api.impersonate_user(
    in_target_user_id uuid
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = data, private, pg_temp
AS $$
DECLARE
    l_current_user_id uuid;
    l_current_role    text;
    l_target_role     text;
BEGIN
    PERFORM private.require_context();
    l_current_user_id := private.get_current_user_id();

    IF private.is_impersonating() THEN
        RAISE EXCEPTION 'Already impersonating a user'
            USING ERRCODE = 'P0055',
                  HINT = 'Call api.end_impersonation() first.';
    END IF;

    SELECT u.role INTO l_current_role
    FROM data.users AS u
    WHERE u.id = l_current_user_id;

    IF l_current_role IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'Only admins can impersonate users'
            USING ERRCODE = 'P0053';
    END IF;

    SELECT u.role INTO l_target_role
    FROM data.users AS u
    WHERE u.id = in_target_user_id;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'Unknown target user: %', COALESCE(in_target_user_id::text, 'NULL')
            USING ERRCODE = 'P0057';
    END IF;

    IF in_target_user_id = l_current_user_id THEN
        RAISE EXCEPTION 'Cannot impersonate yourself'
            USING ERRCODE = 'P0058';
    END IF;

    PERFORM set_config('myapp.original_user_id', l_current_user_id::text, false);
    PERFORM set_config('myapp.original_role',
        COALESCE(current_setting('myapp.current_role', true), ''), false);
    PERFORM set_config('myapp.current_user_id', in_target_user_id::text, false);
    PERFORM set_config('myapp.current_role', COALESCE(l_target_role, ''), false);
    PERFORM set_config('myapp.is_impersonating', 'true', false);

    INSERT INTO app_audit.impersonation_log (
        admin_user_id, target_user_id, started_at, backend_pid
    ) VALUES (
        l_current_user_id, in_target_user_id, now(), pg_backend_pid()
    );
END;
$$;
REVOKE EXECUTE ON FUNCTION api.impersonate_user(uuid) FROM PUBLIC;

-- SPEC FIX: the spec raised a generic P0001 and logged nothing; this raises
-- P0056 and closes the log row -- and raises P0056 too when no open row is
-- logged for this session (forged impersonation variables).
-- The row closed is this backend's open row for this admin, started since this
-- backend started: a crashed backend that had the same pid leaves its row open
-- rather than have it closed with someone else's time.
CREATE OR REPLACE FUNCTION api.end_impersonation()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_original_user_id uuid;
BEGIN
    l_original_user_id := private.get_original_user_id();

    IF l_original_user_id IS NULL THEN
        RAISE EXCEPTION 'Not currently impersonating'
            USING ERRCODE = 'P0056';
    END IF;

    UPDATE app_audit.impersonation_log AS l
    SET ended_at = now()
    WHERE l.backend_pid = pg_backend_pid()
      AND l.ended_at IS NULL
      AND l.admin_user_id = l_original_user_id
      AND l.started_at >= (SELECT a.backend_start
                           FROM pg_catalog.pg_stat_activity AS a
                           WHERE a.pid = pg_backend_pid());

    -- Fail closed: context variables can be forged with set_config(), the
    -- log cannot.  Without an open impersonation logged for this session,
    -- "ending" it would switch to whatever original_user_id says.
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Not currently impersonating (no open impersonation is logged for this session)'
            USING ERRCODE = 'P0056';
    END IF;

    PERFORM set_config('myapp.current_user_id', l_original_user_id::text, false);
    PERFORM set_config('myapp.current_role',
        COALESCE(current_setting('myapp.original_role', true), ''), false);
    PERFORM set_config('myapp.original_user_id', '', false);
    PERFORM set_config('myapp.original_role', '', false);
    PERFORM set_config('myapp.is_impersonating', 'false', false);
END;
$$;
REVOKE EXECUTE ON FUNCTION api.end_impersonation() FROM PUBLIC;
