-- Objects of `make stress` and `make failover`, run as the superuser by
-- run-stress.sh and run-failover.sh after `myappctx schema install
-- --app-role app_service --demo`.  Users and tenants are seeded by the
-- programs themselves (random ids per run, bound parameters).

SET client_min_messages = warning;

-- One row per unit of work that wrote something: the token identifies the
-- unit; the identity columns are filled from the context by their defaults,
-- so the final check sees who the server thought was writing.  Protected by
-- row-level security exactly like data.orders (sql/demo/001_orders.sql).
CREATE TABLE IF NOT EXISTS data.stress_events (
    token         bigint PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    worker        integer NOT NULL,
    kind          text NOT NULL,
    user_id       uuid DEFAULT private.get_current_user_id(),
    ctx_role      text DEFAULT private.get_current_role(),
    audit_ticket  text DEFAULT (private.get_audit_context() ->> 'ticket'),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS stress_events_worker_tenant_idx
    ON data.stress_events (worker, tenant_id);

ALTER TABLE data.stress_events ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS stress_events_tenant_select ON data.stress_events;
CREATE POLICY stress_events_tenant_select ON data.stress_events
    FOR SELECT
    USING (tenant_id = (SELECT private.get_current_tenant_id()));

DROP POLICY IF EXISTS stress_events_tenant_insert ON data.stress_events;
CREATE POLICY stress_events_tenant_insert ON data.stress_events
    FOR INSERT
    WITH CHECK (tenant_id = (SELECT private.get_current_tenant_id()));

GRANT SELECT, INSERT ON data.stress_events TO app_service;

-- A role the application role may switch to with SET ROLE (and leave
-- behind on release, on purpose).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'stress_other') THEN
        CREATE ROLE stress_other NOLOGIN;
    END IF;
END;
$$;
GRANT stress_other TO app_service;

-- A loaded setting with a known baseline: every borrower must see 'clean'.
INSERT INTO data.app_settings (key, value, description)
VALUES ('stress_baseline', 'clean', 'make stress: every borrower must see this value')
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;

-- Used as the first statement of a one-round-trip unit: fails the unit
-- (SQLSTATE SL001, checked by the programs) when it sees state an earlier
-- borrower left behind.  The argument is the leftover text built by the
-- programs' check (stress_util.c, SU_ASSERT_CLEAN_SQL), '' when clean.
CREATE OR REPLACE FUNCTION data.stress_assert_clean(in_leftover text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF in_leftover <> '' THEN
        RAISE EXCEPTION 'leftover state: %', in_leftover
            USING ERRCODE = 'SL001';
    END IF;
END;
$$;
GRANT EXECUTE ON FUNCTION data.stress_assert_clean(text) TO app_service;
