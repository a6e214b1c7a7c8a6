-- pgTAP: api.clear_context() (002_context.sql).
-- To see that RESET brings a default back (rather than setting ''), this file
-- first reconnects with myapp.default_page_size = 25 as a connection default,
-- the way the app role gets it from ALTER ROLE ... SET. The reconnection keeps
-- host, port, user and database (-reuse-previous=on).
\connect -reuse-previous=on "options='-c myapp.default_page_size=25'"

SELECT gen_random_uuid() AS admin, gen_random_uuid() AS plain,
       gen_random_uuid() AS t1,
       'k_' || substr(md5(random()::text), 1, 12) AS k1,
       current_setting('application_name') AS app_name_before \gset

BEGIN;
SELECT plan(23);

INSERT INTO data.users (id, email, role) VALUES
    (:'admin', 'cc-admin@example.com', 'admin'),
    (:'plain', 'cc-plain@example.com', 'user');
INSERT INTO data.app_settings (key, value) VALUES (:'k1', 'loaded');
-- A loaded setting that shadows the connection default.
INSERT INTO data.app_settings (key, value) VALUES ('default_page_size', '50')
ON CONFLICT (key) DO UPDATE SET value = '50';
-- A myapp.* role default of the session user in this database (rolled back
-- with the rest): clear_context() must find names there too.
SELECT format('ALTER ROLE %I IN DATABASE %I SET myapp.cc_role_default = %L',
              session_user, current_database(), 'role default') \gexec

SELECT is(current_setting('myapp.default_page_size'), '25', 'connection default page size is 25');

SET LOCAL ROLE app_service;

-- Everything set: context, audit, loaded settings, impersonation, a changed
-- role-default variable.
SELECT lives_ok(format('SELECT api.set_context(%L, %L, %L, %L, %L)',
    :'admin', :'t1', 'admin', 'sess-cc', '{"k": 1}'), 'full context');
SELECT lives_ok($$SELECT api.set_audit_context('cleanup test', 'T-1')$$, 'audit context');
SELECT ok(api.load_app_settings() >= 2, 'settings loaded');
SELECT is(private.get_app_setting('default_page_size'), '50', 'the loaded setting shadows the default');
DO $$ BEGIN PERFORM set_config('myapp.cc_role_default', 'changed', false); END $$;
SELECT lives_ok(format('SELECT api.impersonate_user(%L)', :'plain'), 'impersonating');

SELECT lives_ok('SELECT api.clear_context()', 'clear_context as the app role, while impersonating');

SELECT is(api.get_context(),
    '{"user_id": null, "tenant_id": null, "role": null, "session_id": null,
      "metadata": null, "created_at": null, "is_impersonating": false,
      "original_user_id": null, "audit": null}'::jsonb,
    'no user, tenant, role, session, metadata, time, impersonation or audit left');
SELECT is(current_setting('myapp.is_impersonating'), '', 'the impersonation flag is reset');
SELECT is(current_setting('myapp.original_role'), '', 'the saved role is reset');
SELECT is(private.get_app_setting(:'k1'), NULL, 'a loaded setting is cleared');
SELECT is(current_setting('myapp.loaded_settings'), '', 'the loaded-settings list is cleared');
SELECT is(current_setting('myapp.default_page_size'), '25',
    'a shadowed default comes back (RESET, not set to '''')');
SELECT is(current_setting('myapp.cc_role_default'), '',
    'a myapp.* name from the role defaults is reset too');
SELECT is(current_setting('application_name'), :'app_name_before', 'application_name is reset');
SELECT throws_ok('SELECT private.require_context()', 'P0050', NULL, 'require_context fails afterwards');

RESET ROLE;
SELECT isnt(
    (SELECT ended_at FROM app_audit.impersonation_log
     WHERE admin_user_id = :'admin' AND target_user_id = :'plain'),
    NULL, 'the active impersonation was ended and its log row closed');
SET LOCAL ROLE app_service;

SELECT lives_ok('SELECT api.clear_context()', 'clear_context on a clear connection (no P0056)');
SELECT is(current_setting('myapp.default_page_size'), '25', 'and the default is still there');

-- Transaction-local context is cleared as well.
SELECT lives_ok(format('SELECT api.set_transaction_context(%L, %L, %L)', :'plain', :'t1', 'user'),
    'transaction context');
SELECT lives_ok('SELECT api.clear_context()', 'clear_context');
SELECT is(ARRAY[private.get_current_user_id()::text, private.get_current_tenant_id()::text,
                private.get_current_role()],
    ARRAY[NULL, NULL, NULL]::text[], 'transaction-local user, tenant and role are cleared');

-- After clearing, a new context can be set (no impersonation left behind).
SELECT lives_ok(format('SELECT api.set_context(%L)', :'plain'), 'set_context after clear_context');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
