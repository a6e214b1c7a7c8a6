-- pgTAP: the demo's row-level security (sql/demo/001_orders.sql). Needs the
-- demo installed and myappctx.setup_demo_grants('app_service') run.
SELECT gen_random_uuid() AS ta, gen_random_uuid() AS tb,
       gen_random_uuid() AS u1, gen_random_uuid() AS u2 \gset

BEGIN;
SELECT plan(27);

SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'data.orders'::regclass), true,
    'row-level security is enabled on data.orders');
SELECT is(
    (SELECT array_agg(cmd::text ORDER BY cmd::text) FROM pg_policies
     WHERE schemaname = 'data' AND tablename = 'orders'),
    ARRAY['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
    'one policy per command');
SELECT is_empty(
    $$SELECT policyname FROM pg_policies
      WHERE schemaname = 'data' AND tablename = 'orders'
        AND ((qual IS NOT NULL
              AND qual !~ '^\(tenant_id = \( SELECT private\.get_current_tenant_id\(\)')
          OR (with_check IS NOT NULL
              AND with_check !~ '^\(tenant_id = \( SELECT private\.get_current_tenant_id\(\)'))$$,
    'every policy calls the tenant reader as (SELECT ...), schema-qualified');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'api.get_my_orders()'::regprocedure), false,
    'get_my_orders is SECURITY INVOKER, so RLS applies to its caller');
SELECT ok(has_table_privilege('app_service', 'data.orders', 'SELECT, INSERT, UPDATE, DELETE'),
    'setup_demo_grants granted DML on data.orders');
SELECT throws_ok($$SELECT myappctx.setup_demo_grants('postgres_no_such_role_x')$$, 'P0058', NULL,
    'setup_demo_grants refuses an unknown role');
SELECT throws_ok(format('SELECT myappctx.setup_demo_grants(%L)', session_user), 'P0058', NULL,
    'setup_demo_grants refuses a superuser');

INSERT INTO data.orders (tenant_id, user_id, item, amount) VALUES
    (:'ta', :'u1', 'a-u1-1', 10), (:'ta', :'u1', 'a-u1-2', 20),
    (:'ta', :'u2', 'a-u2-1', 30), (:'tb', :'u1', 'b-u1-1', 40);

SET LOCAL ROLE app_service;

SELECT is_empty('SELECT * FROM data.orders', 'no context: no rows');
SELECT throws_ok('SELECT * FROM api.get_my_orders()', 'P0050', NULL, 'get_my_orders without context: P0050');

SELECT lives_ok(format('SELECT api.set_context(%L)', :'u1'), 'user context without a tenant');
SELECT is_empty('SELECT * FROM data.orders', 'no tenant: no rows (fail closed)');
SELECT is_empty('SELECT * FROM api.get_my_orders()', 'no tenant: get_my_orders is empty');

SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'u1', :'ta'), 'tenant A context');
SELECT results_eq('SELECT item FROM data.orders ORDER BY item',
    $$VALUES ('a-u1-1'), ('a-u1-2'), ('a-u2-1')$$, 'tenant A sees only tenant A orders');
SELECT results_eq('SELECT item FROM api.get_my_orders()',
    $$VALUES ('a-u1-1'), ('a-u1-2')$$, 'get_my_orders: the user''s orders in tenant A');
SELECT throws_ok(format($q$INSERT INTO data.orders (tenant_id, user_id, item) VALUES (%L, %L, 'x')$q$, :'tb', :'u1'),
    '42501', NULL, 'tenant A cannot insert into tenant B');
SELECT lives_ok(format($q$INSERT INTO data.orders (tenant_id, user_id, item, amount) VALUES (%L, %L, 'a-u1-3', 5)$q$, :'ta', :'u1'),
    'tenant A can insert into tenant A');
SELECT throws_ok(format($q$UPDATE data.orders SET tenant_id = %L WHERE item = 'a-u1-3'$q$, :'tb'),
    '42501', NULL, 'a row cannot be moved to tenant B');
SELECT is_empty($$UPDATE data.orders SET amount = 0 WHERE item = 'b-u1-1' RETURNING id$$,
    'tenant B rows cannot be updated from tenant A');
SELECT is_empty($$DELETE FROM data.orders WHERE item = 'b-u1-1' RETURNING id$$,
    'tenant B rows cannot be deleted from tenant A');

SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'u1', :'tb'), 'tenant B context');
SELECT results_eq('SELECT item, amount FROM data.orders',
    $$VALUES ('b-u1-1'::text, 40::numeric)$$, 'tenant B sees only its order, unchanged');
SELECT results_eq('SELECT item FROM api.get_my_orders()', $$VALUES ('b-u1-1')$$,
    'get_my_orders follows the tenant');

DO $$ BEGIN PERFORM set_config('myapp.current_tenant_id', '', false); END $$;
SELECT lives_ok(format('SELECT api.set_transaction_context(%L, %L)', :'u2', :'ta'),
    'transaction context for tenant A');
SELECT results_eq('SELECT item FROM api.get_my_orders()', $$VALUES ('a-u2-1')$$,
    'RLS follows the transaction context as well');

RESET ROLE;
SELECT is((SELECT count(*) FROM data.orders WHERE tenant_id IN (:'ta', :'tb')), 5::bigint,
    'as the owner every row is there (4 + the one inserted)');
SELECT is((SELECT amount FROM data.orders WHERE item = 'b-u1-1' AND tenant_id = :'tb'), 40::numeric,
    'the tenant B row was not touched');

SELECT * FROM finish();
ROLLBACK;
