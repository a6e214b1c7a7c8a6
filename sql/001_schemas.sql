-- 001_schemas: the schemas, the core tables, and the setting-key rule the
-- app_settings table enforces.
--
-- Schemas:
--   api       what the application calls (EXECUTE granted to the app role)
--   private   helpers and context readers (called schema-qualified)
--   data      tables; the app role gets only the table rights it needs
--   app_audit append-only audit; written only by SECURITY DEFINER functions
--   myappctx  installer and role-setup functions; nothing granted to the app role
--
-- Every file is plain SQL without BEGIN/COMMIT (the installer wraps all pending
-- migrations in one transaction) and can be re-run without error.
-- SPEC FIX: no custom_variable_classes (removed in PostgreSQL 9.2); dotted
-- placeholder names such as myapp.current_user_id need no registration.

CREATE SCHEMA IF NOT EXISTS api;
CREATE SCHEMA IF NOT EXISTS private;
CREATE SCHEMA IF NOT EXISTS data;
CREATE SCHEMA IF NOT EXISTS app_audit;
CREATE SCHEMA IF NOT EXISTS myappctx;

-- The myapp.* names (without prefix) that carry context. They are reserved:
-- no app setting may use them, and api.clear_context() always resets them.
-- IMMUTABLE is right here: it is a constant list, not a context reader.
CREATE OR REPLACE FUNCTION private.context_variable_names()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT ARRAY[
        'current_user_id', 'current_tenant_id', 'current_role', 'session_id',
        'context_metadata', 'context_created_at', 'audit_context',
        'original_user_id', 'original_role', 'is_impersonating',
        'loaded_settings'
    ]::text[];
$$;

-- SPEC FIX: the spec's load_app_settings copies any key to myapp.<key>, so a
-- settings row named current_user_id would forge identity; keys are now
-- lower-case identifiers that are not context names.
CREATE OR REPLACE FUNCTION private.is_valid_setting_key(in_key text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT COALESCE(
        in_key ~ '^[a-z][a-z0-9_]{0,62}$'
            AND in_key <> ALL (private.context_variable_names()),
        false);
$$;

CREATE TABLE IF NOT EXISTS data.users (
    id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email   text,
    name    text,
    role    text            -- NULL allowed: a user without a role is never an admin
);

CREATE TABLE IF NOT EXISTS data.user_tenants (
    user_id     uuid NOT NULL REFERENCES data.users (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL,
    is_active   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (user_id, tenant_id)
);

CREATE TABLE IF NOT EXISTS data.app_settings (
    key         text PRIMARY KEY
                CONSTRAINT app_settings_key_check
                CHECK (private.is_valid_setting_key(key)),
    value       text NOT NULL,
    description text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS data.connection_log (
    id                bigserial PRIMARY KEY,
    connected_at      timestamptz NOT NULL DEFAULT now(),
    client_addr       inet,
    application_name  text,
    backend_pid       integer
);

CREATE TABLE IF NOT EXISTS data.rate_limits (
    user_id       uuid NOT NULL,
    action        text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, action, window_start)
);
-- api.cleanup_rate_limits() deletes by age; the primary key does not lead
-- with window_start.
CREATE INDEX IF NOT EXISTS rate_limits_window_start_idx
    ON data.rate_limits (window_start);

-- No foreign keys to data.users: deleting a user must neither fail because of,
-- nor silently delete, its audit trail.
CREATE TABLE IF NOT EXISTS app_audit.impersonation_log (
    id              bigserial PRIMARY KEY,
    admin_user_id   uuid NOT NULL,
    target_user_id  uuid NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    backend_pid     integer
);
-- api.end_impersonation() looks up this backend's open row.
CREATE INDEX IF NOT EXISTS impersonation_log_open_idx
    ON app_audit.impersonation_log (backend_pid)
    WHERE ended_at IS NULL;

-- Where api.send_email() queues mail, so that sending is observable.
CREATE TABLE IF NOT EXISTS data.email_outbox (
    id          bigserial PRIMARY KEY,
    user_id     uuid,
    to_addr     text,
    subject     text,
    body        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
