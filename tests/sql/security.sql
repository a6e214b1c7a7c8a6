-- pgTAP: tenant checks (006_security.sql). Run as the app role, which has no
-- SELECT on data.user_tenants: verify_user_tenant_access must work anyway.
SELECT gen_random_uuid() AS member, gen_random_uuid() AS inactive,
       gen_random_uuid() AS outsider, gen_random_uuid() AS t1,
       gen_random_uuid() AS t2 \gset

BEGIN;
SELECT plan(14);

INSERT INTO data.users (id, email, role) VALUES
    (:'member', 'member@example.com', 'user'),
    (:'inactive', 'inactive@example.com', 'user'),
    (:'outsider', 'outsider@example.com', 'user');
INSERT INTO data.user_tenants (user_id, tenant_id, is_active) VALUES
    (:'member', :'t1', true),
    (:'inactive', :'t1', false),
    (:'outsider', :'t2', true);

SET LOCAL ROLE app_service;

-- require_tenant_context
SELECT throws_ok('SELECT private.require_tenant_context()', 'P0051', 'Tenant context not set',
    'require_tenant_context raises P0051 with no context');
SELECT lives_ok(format('SELECT api.set_context(%L)', :'member'), 'context without a tenant');
SELECT throws_ok('SELECT private.require_tenant_context()', 'P0051', 'Tenant context not set',
    'require_tenant_context raises P0051 without a tenant');
DO $$ BEGIN PERFORM set_config('myapp.current_tenant_id', '', false); END $$;
SELECT throws_ok('SELECT private.require_tenant_context()', 'P0051', NULL,
    'require_tenant_context: '''' tenant counts as unset');

-- verify_user_tenant_access
SELECT throws_ok('SELECT private.verify_user_tenant_access()', 'P0051', NULL,
    'verify_user_tenant_access raises P0051 without a tenant');
DO $$ BEGIN PERFORM set_config('myapp.current_user_id', '', false); END $$;
SELECT throws_ok('SELECT private.verify_user_tenant_access()', 'P0050', NULL,
    'verify_user_tenant_access raises P0050 without a user');

SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'member', :'t1'), 'member in its tenant');
SELECT lives_ok('SELECT private.require_tenant_context()', 'require_tenant_context passes with a tenant');
SELECT is(private.verify_user_tenant_access(), true, 'an active member has access');

SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'member', :'t2'), 'member in another tenant');
SELECT throws_ok('SELECT private.verify_user_tenant_access()', 'P0052',
    'User does not have access to tenant', 'a non-member gets P0052');

SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'inactive', :'t1'), 'inactive member');
SELECT throws_ok('SELECT private.verify_user_tenant_access()', 'P0052', NULL,
    'an inactive membership gets P0052');

SELECT throws_ok('SELECT * FROM data.user_tenants', '42501', NULL,
    'the app role cannot read data.user_tenants directly');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
