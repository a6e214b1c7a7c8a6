-- Protect your own table with the context libmyappctx sets: a tenant-scoped
-- table under row-level security, and an audit trail written by a trigger
-- that reads the audit context.  README "Protect your own table" walks
-- through it; examples/protect_your_table.c uses it.
--
-- Run it as a superuser (or a role that may create roles and schemas),
-- after `myappctx schema install --app-role app_service`, which provides
-- the context readers private.get_current_tenant_id(),
-- private.get_current_user_id() and private.get_audit_context() and the
-- application role app_service.  `make demo` runs it with psql before the
-- example programs.  It can be run again: it changes nothing the second time.
--
-- Every name is schema-qualified: app_service's search_path is
-- `api, pg_temp`, and the trigger function pins its own.

-- 1. An owner that nobody logs in as.  The application must never connect
--    as the owner of its tables (an owner can disable row-level security,
--    alter or drop the table) nor as a superuser or BYPASSRLS role (row-level
--    security does not apply to them at all).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'shop_owner') THEN
        CREATE ROLE shop_owner NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END;
$$;

CREATE SCHEMA IF NOT EXISTS shop AUTHORIZATION shop_owner;
-- The owner's objects call the context readers (column defaults, the audit
-- trigger), so it needs to reach schema private.
GRANT USAGE ON SCHEMA private TO shop_owner;

-- Everything below is created by the owner, so it owns it: the tables,
-- their sequences, the trigger function.
SET ROLE shop_owner;

-- 2. The table.  tenant_id defaults to the context's tenant, so the
--    application does not have to pass it (and cannot pass another one:
--    the policy below refuses it).
CREATE TABLE IF NOT EXISTS shop.invoices (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL DEFAULT private.get_current_tenant_id(),
    number      text NOT NULL,
    customer    text NOT NULL,
    amount      numeric(12, 2) NOT NULL CHECK (amount >= 0),
    created_by  uuid DEFAULT private.get_current_user_id(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Policies filter on tenant_id: lead every index with it.
CREATE INDEX IF NOT EXISTS invoices_tenant_idx ON shop.invoices (tenant_id, id);

-- 3. Row-level security.  ENABLE makes the policies apply; FORCE makes them
--    apply to the table's owner too, who otherwise bypasses them.
ALTER TABLE shop.invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.invoices FORCE ROW LEVEL SECURITY;

-- One policy for every command: USING filters the rows a statement sees
-- (SELECT, UPDATE, DELETE), WITH CHECK the rows it writes (INSERT, UPDATE),
-- so a row can be neither read in, written into nor moved to another
-- tenant.  (SELECT fn()) is an InitPlan: the reader runs once per statement,
-- not once per row.  No tenant in the context reads as NULL, which equals
-- nothing: no rows, no writes (fail closed).
DROP POLICY IF EXISTS invoices_tenant_isolation ON shop.invoices;
CREATE POLICY invoices_tenant_isolation ON shop.invoices
    USING (tenant_id = (SELECT private.get_current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT private.get_current_tenant_id()));

-- 4. The audit trail: one row per change, with who (the context's user, and
--    the role that connected), the tenant and the audit reason and ticket
--    of the transaction (myappctx_audit_set(), or audit_reason/audit_ticket
--    of a unit of work).
CREATE TABLE IF NOT EXISTS shop.invoice_audit (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL,    -- no foreign key: the trail outlives a deleted invoice
    tenant_id   uuid NOT NULL,
    action      text NOT NULL,      -- INSERT, UPDATE or DELETE
    user_id     uuid,               -- private.get_current_user_id()
    reason      text,               -- private.get_audit_context() ->> 'reason'
    ticket      text,               -- private.get_audit_context() ->> 'ticket'
    db_user     name NOT NULL DEFAULT session_user,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS invoice_audit_tenant_idx
    ON shop.invoice_audit (tenant_id, invoice_id);

-- The application may read its own tenant's trail and nothing else; only
-- the trigger function below, running as the owner, may write it.  FORCE
-- here too, so the owner is bound by the policies: it may insert (that is
-- the trigger) but not read or change the trail.
ALTER TABLE shop.invoice_audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.invoice_audit FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS invoice_audit_read ON shop.invoice_audit;
CREATE POLICY invoice_audit_read ON shop.invoice_audit
    FOR SELECT
    USING (tenant_id = (SELECT private.get_current_tenant_id()));
DROP POLICY IF EXISTS invoice_audit_write ON shop.invoice_audit;
CREATE POLICY invoice_audit_write ON shop.invoice_audit
    FOR INSERT TO shop_owner
    WITH CHECK (true);

-- SECURITY DEFINER (it runs as shop_owner), so that app_service needs no
-- INSERT on the trail: with INSERT it could write rows of its choosing, and
-- the trail would prove nothing.  A SECURITY DEFINER function must pin its
-- search_path (pg_temp last), or a caller could put objects of its own
-- ahead of the ones it names; every name in it is qualified anyway.  It is
-- an AFTER trigger, so it records the row as written (defaults and other
-- triggers applied), and only rows that passed the policy.
CREATE OR REPLACE FUNCTION shop.invoice_audit_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_row   shop.invoices;
    l_audit jsonb := private.get_audit_context();
BEGIN
    IF TG_OP = 'DELETE' THEN
        l_row := OLD;
    ELSE
        l_row := NEW;
    END IF;
    INSERT INTO shop.invoice_audit (invoice_id, tenant_id, action, user_id, reason, ticket)
    VALUES (l_row.id, l_row.tenant_id, TG_OP, private.get_current_user_id(),
            l_audit ->> 'reason', l_audit ->> 'ticket');
    RETURN NULL;    -- the result of an AFTER trigger is ignored
END;
$$;
-- Only the trigger calls it; nobody else needs to.
REVOKE EXECUTE ON FUNCTION shop.invoice_audit_trigger() FROM PUBLIC;

DROP TRIGGER IF EXISTS invoice_audit ON shop.invoices;
CREATE TRIGGER invoice_audit
    AFTER INSERT OR UPDATE OR DELETE ON shop.invoices
    FOR EACH ROW EXECUTE FUNCTION shop.invoice_audit_trigger();

-- 5. Grants to the application role: the schema, the table, and the
--    sequence behind bigserial (nextval() in the column default needs USAGE
--    on it; without it every INSERT fails with "permission denied for
--    sequence").  Only SELECT on the trail.  Nothing else: no TRUNCATE
--    (which row-level security does not filter), no REFERENCES, no TRIGGER.
GRANT USAGE ON SCHEMA shop TO app_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.invoices TO app_service;
GRANT USAGE ON SEQUENCE shop.invoices_id_seq TO app_service;
GRANT SELECT ON shop.invoice_audit TO app_service;

RESET ROLE;
