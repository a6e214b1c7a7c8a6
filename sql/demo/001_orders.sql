-- demo/001_orders: demo objects, not part of the core install. A
-- tenant-scoped orders table protected by row-level security that reads the
-- tenant from the context, a reader function, and the grants for it.

CREATE TABLE IF NOT EXISTS data.orders (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    item        text,
    amount      numeric,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_tenant_user_idx ON data.orders (tenant_id, user_id);

ALTER TABLE data.orders ENABLE ROW LEVEL SECURITY;

-- (SELECT fn()) makes the reader an InitPlan evaluated once per statement
-- instead of once per row. Names are schema-qualified because the app role's
-- search_path is api, pg_temp. No tenant in context means NULL, which matches
-- no row (fail closed).
DROP POLICY IF EXISTS orders_tenant_select ON data.orders;
CREATE POLICY orders_tenant_select ON data.orders
    FOR SELECT
    USING (tenant_id = (SELECT private.get_current_tenant_id()));

DROP POLICY IF EXISTS orders_tenant_insert ON data.orders;
CREATE POLICY orders_tenant_insert ON data.orders
    FOR INSERT
    WITH CHECK (tenant_id = (SELECT private.get_current_tenant_id()));

DROP POLICY IF EXISTS orders_tenant_update ON data.orders;
CREATE POLICY orders_tenant_update ON data.orders
    FOR UPDATE
    USING (tenant_id = (SELECT private.get_current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT private.get_current_tenant_id()));

DROP POLICY IF EXISTS orders_tenant_delete ON data.orders;
CREATE POLICY orders_tenant_delete ON data.orders
    FOR DELETE
    USING (tenant_id = (SELECT private.get_current_tenant_id()));

-- The current user's orders in the current tenant. SECURITY INVOKER so that
-- row-level security applies to the caller; the tenant filter is the policy's.
CREATE OR REPLACE FUNCTION api.get_my_orders()
RETURNS SETOF data.orders
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
AS $$
BEGIN
    PERFORM private.require_context();

    RETURN QUERY
    SELECT o.*
    FROM data.orders AS o
    WHERE o.user_id = private.get_current_user_id()
    ORDER BY o.created_at, o.id;
END;
$$;

-- Grants for the demo: USAGE on data, SELECT/INSERT/UPDATE/DELETE on
-- data.orders (row-level security limits them to the context's tenant),
-- USAGE on its sequence, EXECUTE on api.get_my_orders(). Same refusals as
-- myappctx.setup_app_role(): unknown, superuser or BYPASSRLS roles (P0058).
CREATE OR REPLACE FUNCTION myappctx.setup_demo_grants(in_role name)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_is_super  boolean;
    l_bypass    boolean;
BEGIN
    SELECT r.rolsuper, r.rolbypassrls INTO l_is_super, l_bypass
    FROM pg_catalog.pg_roles AS r
    WHERE r.rolname = in_role;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'role % does not exist', COALESCE(in_role::text, 'NULL')
            USING ERRCODE = 'P0058';
    END IF;
    IF l_is_super OR l_bypass THEN
        RAISE EXCEPTION 'role % bypasses row-level security', in_role
            USING ERRCODE = 'P0058';
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA data TO %I', in_role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON data.orders TO %I', in_role);
    EXECUTE format('GRANT USAGE ON SEQUENCE data.orders_id_seq TO %I', in_role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION api.get_my_orders() TO %I', in_role);
END;
$$;
REVOKE EXECUTE ON FUNCTION myappctx.setup_demo_grants(name) FROM PUBLIC;
