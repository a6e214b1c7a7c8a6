-- pgTAP: context readers and setters (002_context.sql).
-- Transaction-local versus session scope is tested inside the one transaction
-- of this file with pg_temp.in_nested_scope(): a function whose SET clauses
-- save the myapp.* context variables, so that a set_config(..., true) made
-- inside it is undone when it returns, while set_config(..., false) survives.
-- That the value is also gone after COMMIT is covered by the C tests.
SELECT gen_random_uuid() AS u1, gen_random_uuid() AS u2,
       gen_random_uuid() AS t1, gen_random_uuid() AS t2,
       gen_random_uuid() AS nobody \gset

BEGIN;
SELECT plan(47);

INSERT INTO data.users (id, email, name, role)
VALUES (:'u1', 'one@example.com', 'User One', 'user');

CREATE FUNCTION pg_temp.in_nested_scope(in_sql text)
RETURNS void
LANGUAGE plpgsql
SET myapp.current_user_id = ''
SET myapp.current_tenant_id = ''
SET myapp."current_role" = ''
SET myapp.audit_context = ''
AS $$ BEGIN EXECUTE in_sql; END $$;

SET LOCAL ROLE app_service;

-- Unset and '' both read as NULL.
SELECT is(private.get_current_user_id(), NULL::uuid, 'user id is NULL when never set');
SELECT is(api.get_context(),
    '{"user_id": null, "tenant_id": null, "role": null, "session_id": null,
      "metadata": null, "created_at": null, "is_impersonating": false,
      "original_user_id": null, "audit": null}'::jsonb,
    'get_context: every key present, null when unset, is_impersonating false');

DO $$
BEGIN
    PERFORM set_config('myapp.' || n, '', false)
    FROM unnest(private.context_variable_names()) AS n;
END $$;
SELECT is(private.get_current_user_id(), NULL::uuid, 'get_current_user_id: '''' reads as NULL');
SELECT is(private.get_current_tenant_id(), NULL::uuid, 'get_current_tenant_id: '''' reads as NULL');
SELECT is(private.get_current_role(), NULL, 'get_current_role: '''' reads as NULL');
SELECT is(private.get_audit_context(), NULL::jsonb, 'get_audit_context: '''' reads as NULL');
SELECT is(private.get_original_user_id(), NULL::uuid, 'get_original_user_id: '''' reads as NULL');
SELECT is(private.is_impersonating(), false, 'is_impersonating: '''' reads as false');
SELECT is(api.get_context(),
    '{"user_id": null, "tenant_id": null, "role": null, "session_id": null,
      "metadata": null, "created_at": null, "is_impersonating": false,
      "original_user_id": null, "audit": null}'::jsonb,
    'get_context: '''' reads as null everywhere');
SELECT is(api.validate_connection()->'user_id', 'null'::jsonb, 'validate_connection: '''' user_id is null');
SELECT is(api.validate_connection()->'tenant_id', 'null'::jsonb, 'validate_connection: '''' tenant_id is null');

-- require_context
SELECT throws_ok('SELECT private.require_context()', 'P0050',
    'User context not set. Call api.set_context() first.',
    'require_context raises P0050 without a user');

-- set_context
SELECT throws_ok('SELECT api.set_context(NULL)', 'P0058', NULL,
    'set_context: NULL user raises P0058');
SELECT throws_ok('SELECT api.set_context(NULL::uuid, gen_random_uuid())', 'P0058', NULL,
    'set_context: NULL user with a tenant raises P0058');
SELECT lives_ok(format(
    'SELECT api.set_context(%L, %L, %L, %L, %L)',
    :'u1', :'t1', 'manager', 'sess-1', '{"ip": "10.0.0.1"}'),
    'set_context with every argument');
SELECT is(private.get_current_user_id(), :'u1'::uuid, 'set_context sets the user');
SELECT is(private.get_current_tenant_id(), :'t1'::uuid, 'set_context sets the tenant');
SELECT is(private.get_current_role(), 'manager', 'set_context sets the role');
SELECT is(api.get_context()->>'session_id', 'sess-1', 'set_context sets the session id');
SELECT is(api.get_context()->'metadata', '{"ip": "10.0.0.1"}'::jsonb, 'set_context sets the metadata');
SELECT is((api.get_context()->>'created_at')::timestamptz, now(), 'set_context records when (ISO 8601, parses back)');
SELECT is(current_setting('application_name'),
    left(format('myapp[user=%s,tenant=%s]', :'u1', :'t1'), 63),
    'set_context sets application_name, cut to 63 bytes by us (no NOTICE)');
SELECT lives_ok('SELECT private.require_context()', 'require_context passes with a user');

SELECT lives_ok(format('SELECT api.set_context(%L)', :'u2'), 'set_context with defaults');
SELECT is(api.get_context(),
    jsonb_build_object('user_id', :'u2'::uuid, 'tenant_id', null, 'role', 'user',
        'session_id', null, 'metadata', '{}'::jsonb, 'created_at', now(),
        'is_impersonating', false, 'original_user_id', null, 'audit', null),
    'set_context defaults: no tenant, role user, no session, metadata {}');
SELECT lives_ok(format('SELECT api.set_context(%L, %L, NULL, NULL, NULL)', :'u2', :'t2'),
    'set_context with NULL role, session and metadata');
SELECT is(api.get_context()->'metadata', '{}'::jsonb, 'NULL metadata is stored as {}');
SELECT is(private.get_current_role(), NULL, 'NULL role reads as unset');

SELECT lives_ok(format($q$SELECT pg_temp.in_nested_scope(format('SELECT api.set_context(%%L, %%L)', %L, %L))$q$,
    :'u1', :'t1'), 'set_context inside a nested GUC scope');
SELECT is(private.get_current_user_id(), :'u1'::uuid, 'set_context is session-scoped: user survives the scope');
SELECT is(private.get_current_tenant_id(), :'t1'::uuid, 'set_context is session-scoped: tenant survives the scope');

-- set_transaction_context
SELECT throws_ok('SELECT api.set_transaction_context(NULL)', 'P0058', NULL,
    'set_transaction_context: NULL user raises P0058');
SELECT lives_ok(format('SELECT api.set_transaction_context(%L, %L)', :'u2', :'t2'),
    'set_transaction_context without a role');
SELECT is(private.get_current_user_id(), :'u2'::uuid, 'set_transaction_context sets the user');
SELECT is(private.get_current_tenant_id(), :'t2'::uuid, 'set_transaction_context sets the tenant');
SELECT is(private.get_current_role(), 'user', 'set_transaction_context: NULL role keeps the role');
SELECT lives_ok(format('SELECT api.set_transaction_context(%L, NULL, %L)', :'u2', 'auditor'),
    'set_transaction_context with a role and no tenant');
SELECT is(private.get_current_role(), 'auditor', 'set_transaction_context sets a given role');
SELECT is(private.get_current_tenant_id(), NULL::uuid, 'set_transaction_context: NULL tenant clears the tenant');

SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'u1', :'t1'), 'back to the session context');
SELECT lives_ok(format($q$SELECT pg_temp.in_nested_scope(format('SELECT api.set_transaction_context(%%L, %%L, %%L)', %L, %L, 'x'))$q$,
    :'u2', :'t2'), 'set_transaction_context inside a nested GUC scope');
SELECT is(
    ARRAY[private.get_current_user_id()::text, private.get_current_tenant_id()::text, private.get_current_role()],
    ARRAY[:'u1', :'t1', 'user'],
    'set_transaction_context is transaction-local (set_config(..., true)): the scope undid it');

-- get_my_profile
SELECT results_eq('SELECT * FROM api.get_my_profile()',
    format('VALUES (%L::uuid, %L, %L)', :'u1', 'one@example.com', 'User One'),
    'get_my_profile returns the current user''s row (app role has no SELECT on data.users)');
SELECT lives_ok(format('SELECT api.set_context(%L)', :'nobody'), 'context for an unknown user');
SELECT is_empty('SELECT * FROM api.get_my_profile()', 'get_my_profile: unknown user gives no row');
DO $$ BEGIN PERFORM set_config('myapp.current_user_id', '', false); END $$;
SELECT throws_ok('SELECT * FROM api.get_my_profile()', 'P0050', NULL,
    'get_my_profile raises P0050 without context');
SELECT throws_ok('SELECT * FROM data.users', '42501', NULL,
    'the app role cannot read data.users directly');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
