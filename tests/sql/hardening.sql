-- pgTAP: hardening rules over the whole schema (every migration) and the app
-- role set up by myappctx.setup_app_role() (008_app_role.sql). The catalog
-- checks query pg_proc for all functions, so a function added later without
-- the rule fails here.
SELECT gen_random_uuid() AS u1, gen_random_uuid() AS t1,
       'myappctx test "' || substr(md5(random()::text), 1, 8) || '" Role' AS odd_role,
       'mt_' || substr(md5(random()::text), 1, 10) AS plain_role,
       'mt_' || substr(md5(random()::text), 1, 10) AS bypass_role,
       'k_' || substr(md5(random()::text), 1, 12) AS k1 \gset

BEGIN;
SELECT plan(57);

CREATE TEMP VIEW our_functions AS
SELECT p.oid, p.oid::regprocedure AS func, n.nspname, p.prosecdef, p.provolatile,
       p.proconfig, p.proacl, p.prosrc
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname IN ('api', 'private', 'data', 'app_audit', 'myappctx');

-- SECURITY DEFINER rules
SELECT set_eq(
    'SELECT func::text FROM our_functions WHERE prosecdef',
    ARRAY['api.get_my_profile()', 'api.cleanup_idle_connections(interval)',
          'private.verify_user_tenant_access()', 'api.impersonate_user(uuid)',
          'api.end_impersonation()', 'private.check_rate_limit(text,integer,integer)',
          'api.cleanup_rate_limits(interval)',
          'api.send_email(text,text,text)', 'api.schema_version()'],
    'exactly these functions are SECURITY DEFINER');
SELECT is_empty(
    $$SELECT func FROM our_functions
      WHERE prosecdef
        AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) AS c
                        WHERE c LIKE 'search_path=%' AND c ~ 'pg_temp$')$$,
    'every SECURITY DEFINER function pins search_path, ending in pg_temp');
SELECT is_empty(
    $$SELECT func FROM our_functions
      WHERE prosecdef
        AND (proacl IS NULL
             OR EXISTS (SELECT 1 FROM aclexplode(proacl) AS a
                        WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))$$,
    'no SECURITY DEFINER function is executable by PUBLIC');
SELECT is_empty(
    $$SELECT func FROM our_functions
      WHERE nspname = 'myappctx'
        AND (proacl IS NULL
             OR EXISTS (SELECT 1 FROM aclexplode(proacl) AS a
                        WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))$$,
    'no myappctx (setup) function is executable by PUBLIC');
SELECT is_empty(
    $$SELECT func FROM our_functions
      WHERE prosecdef AND has_function_privilege('public', oid, 'EXECUTE')$$,
    'has_function_privilege agrees: PUBLIC can execute no SECURITY DEFINER function');

-- Volatility of the context readers
SELECT is(
    (SELECT count(*) FROM our_functions
     WHERE provolatile = 's'
       AND func::text IN ('private.get_current_user_id()', 'private.get_current_tenant_id()',
                          'private.get_current_role()', 'private.get_audit_context()',
                          'private.get_original_user_id()', 'private.is_impersonating()',
                          'api.get_context()', 'api.validate_connection()',
                          'private.get_app_setting(text,text)')),
    9::bigint,
    'the nine context readers exist and are STABLE');
SELECT is_empty(
    $$SELECT func FROM our_functions
      WHERE provolatile = 'i' AND prosrc ~* 'current_setting|set_config'$$,
    'no IMMUTABLE function reads or writes settings');
SELECT is_empty(
    $$SELECT func FROM our_functions WHERE prosrc ~* 'custom_variable_classes'$$,
    'no function mentions custom_variable_classes (removed in PostgreSQL 9.2)');

-- The app role
SELECT results_eq(
    $$SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolreplication, rolcanlogin
      FROM pg_roles WHERE rolname = 'app_service'$$,
    $$VALUES (false, false, false, false, false, true)$$,
    'app_service: not superuser, no BYPASSRLS/CREATEDB/CREATEROLE/REPLICATION, can log in');
SELECT is_empty(
    $$SELECT e FROM unnest(ARRAY['search_path=api, pg_temp', 'statement_timeout=30s',
                                'lock_timeout=10s', 'idle_in_transaction_session_timeout=60s',
                                'timezone=utc', 'myapp.default_page_size=25']) AS e
      WHERE lower(e) NOT IN (SELECT lower(c) FROM pg_db_role_setting AS s, unnest(s.setconfig) AS c
                             WHERE s.setrole = 'app_service'::regrole AND s.setdatabase = 0)$$,
    'app_service has every role default of the spec');
SELECT is_empty(
    $$SELECT func FROM our_functions
      WHERE nspname IN ('api', 'private')
        AND NOT has_function_privilege('app_service', oid, 'EXECUTE')$$,
    'app_service can execute every api and private function');
SELECT ok(NOT has_schema_privilege('app_service', 'app_audit', 'USAGE'), 'no USAGE on app_audit');
SELECT ok(NOT has_schema_privilege('app_service', 'myappctx', 'USAGE'), 'no USAGE on myappctx');
SELECT ok(NOT has_schema_privilege('app_service', 'data', 'CREATE')
          AND NOT has_schema_privilege('app_service', 'api', 'CREATE')
          AND NOT has_schema_privilege('app_service', 'private', 'CREATE'),
    'no CREATE on api, private, data');
SELECT is_empty(
    $$SELECT c.oid::regclass FROM pg_class AS c
      WHERE c.oid IN ('app_audit.impersonation_log'::regclass, 'data.rate_limits'::regclass,
                      'app_audit.impersonation_log_id_seq'::regclass)
        AND (has_table_privilege('app_service', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
             OR (c.relkind = 'S' AND has_sequence_privilege('app_service', c.oid, 'USAGE, SELECT, UPDATE')))$$,
    'app_service holds no privilege on the impersonation log, its sequence, or the rate limits');

SET LOCAL ROLE app_service;

SELECT throws_ok($$INSERT INTO app_audit.impersonation_log (admin_user_id, target_user_id)
                   VALUES (gen_random_uuid(), gen_random_uuid())$$, '42501', NULL,
    'app_service cannot INSERT into the impersonation log');
SELECT throws_ok('UPDATE app_audit.impersonation_log SET ended_at = now()', '42501', NULL,
    'app_service cannot UPDATE the impersonation log');
SELECT throws_ok('DELETE FROM app_audit.impersonation_log', '42501', NULL,
    'app_service cannot DELETE from the impersonation log');
SELECT throws_ok('TRUNCATE app_audit.impersonation_log', '42501', NULL,
    'app_service cannot TRUNCATE the impersonation log');
SELECT throws_ok('SELECT * FROM app_audit.impersonation_log', '42501', NULL,
    'app_service cannot read the impersonation log');
SELECT throws_ok($$INSERT INTO data.rate_limits (user_id, action, window_start)
                   VALUES (gen_random_uuid(), 'x', now())$$, '42501', NULL,
    'app_service cannot INSERT into rate_limits');
SELECT throws_ok('UPDATE data.rate_limits SET count = 0', '42501', NULL,
    'app_service cannot UPDATE rate_limits (reset its own counters)');
SELECT throws_ok('DELETE FROM data.rate_limits', '42501', NULL,
    'app_service cannot DELETE from rate_limits');
SELECT throws_ok('TRUNCATE data.rate_limits', '42501', NULL,
    'app_service cannot TRUNCATE rate_limits');
SELECT throws_ok('SELECT * FROM data.rate_limits', '42501', NULL,
    'app_service cannot read rate_limits');
SELECT throws_ok('SELECT * FROM data.email_outbox', '42501', NULL,
    'app_service cannot read the email outbox');

SELECT lives_ok(format($q$INSERT INTO data.app_settings (key, value) VALUES (%L, 'a')$q$, :'k1'),
    'app_service can INSERT app settings');
SELECT lives_ok(format($q$UPDATE data.app_settings SET value = 'b' WHERE key = %L$q$, :'k1'),
    'app_service can UPDATE app settings');
SELECT is((SELECT value FROM data.app_settings WHERE key = :'k1'), 'b', 'app_service can SELECT app settings');
SELECT throws_ok(format('DELETE FROM data.app_settings WHERE key = %L', :'k1'), '42501', NULL,
    'app_service cannot DELETE app settings');
SELECT throws_ok('TRUNCATE data.app_settings', '42501', NULL, 'app_service cannot TRUNCATE app settings');
SELECT lives_ok($$INSERT INTO data.connection_log (backend_pid) VALUES (pg_backend_pid())$$,
    'app_service can INSERT into the connection log');
SELECT throws_ok($$SELECT myappctx.setup_app_role('app_service')$$, '42501', NULL,
    'app_service cannot run the role setup');

-- With the role's own search_path (api, pg_temp; public only for pgTAP):
-- nothing depends on private or data being on the path.
SET LOCAL search_path = api, pg_temp, public;
SELECT lives_ok(format('SELECT set_context(%L, %L)', :'u1', :'t1'), 'search_path api: set_context');
SELECT is(get_context()->>'user_id', :'u1', 'search_path api: get_context');
SELECT lives_ok('SELECT init_connection()', 'search_path api: init_connection (loads settings, logs)');
SELECT lives_ok($$SELECT set_audit_context('r'), validate_connection(), get_connection_summary()$$,
    'search_path api: set_audit_context, validate_connection, get_connection_summary');
SELECT lives_ok('SELECT * FROM get_my_profile()', 'search_path api: get_my_profile');
SELECT lives_ok('SELECT * FROM get_my_orders()', 'search_path api: get_my_orders (RLS policy names resolve)');
SELECT lives_ok($$SELECT send_email('a@example.com', 's', 'b')$$, 'search_path api: send_email');
SELECT lives_ok(format('SELECT set_transaction_context(%L, %L)', :'u1', :'t1'),
    'search_path api: set_transaction_context');
SELECT lives_ok('SELECT clear_context()', 'search_path api: clear_context');
RESET search_path;

RESET ROLE;

-- setup_app_role
SELECT throws_ok('SELECT myappctx.setup_app_role(NULL)', 'P0058', NULL, 'setup_app_role: NULL role: P0058');
SELECT throws_ok($$SELECT myappctx.setup_app_role('')$$, 'P0058', NULL, 'setup_app_role: empty name: P0058');
SELECT throws_ok(format('SELECT myappctx.setup_app_role(%L)', session_user), 'P0058', NULL,
    'setup_app_role refuses a superuser');
SELECT throws_ok($$SELECT myappctx.setup_app_role('pg_monitor')$$, 'P0058', NULL,
    'setup_app_role refuses a predefined pg_ role');
SELECT throws_ok(format('SELECT myappctx.setup_app_role(%L, false)', :'plain_role'), 'P0058', NULL,
    'setup_app_role refuses a missing role when in_create is false');
SELECT is((SELECT count(*) FROM pg_roles WHERE rolname = :'plain_role'), 0::bigint,
    'and did not create it');
SELECT format('CREATE ROLE %I LOGIN BYPASSRLS', :'bypass_role') \gexec
SELECT throws_ok(format('SELECT myappctx.setup_app_role(%L)', :'bypass_role'), 'P0058', NULL,
    'setup_app_role refuses a BYPASSRLS role');

SELECT lives_ok(format('SELECT myappctx.setup_app_role(%L)', :'odd_role'),
    'setup_app_role creates a role whose name needs quoting');
SELECT results_eq(
    format($q$SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole, rolreplication
              FROM pg_roles WHERE rolname = %L$q$, :'odd_role'),
    $$VALUES (true, false, false, false, false, false)$$,
    'the new role has exactly that name and least attributes');
SELECT ok(has_function_privilege(:'odd_role', 'api.set_context(uuid,uuid,text,text,jsonb)', 'EXECUTE')
          AND has_table_privilege(:'odd_role', 'data.app_settings', 'SELECT, INSERT, UPDATE')
          AND NOT has_table_privilege(:'odd_role', 'data.app_settings', 'DELETE'),
    'the new role got its grants');
SELECT lives_ok(format('SELECT myappctx.setup_app_role(%L, false)', :'odd_role'),
    'setup_app_role on an existing role (in_create false) is idempotent');
SELECT lives_ok($$SELECT myappctx.setup_app_role('app_service')$$, 'setup_app_role(''app_service'') again');
SELECT is(
    (SELECT count(*) FROM pg_db_role_setting AS s, unnest(s.setconfig) AS c
     WHERE s.setrole = 'app_service'::regrole AND s.setdatabase = 0 AND c LIKE 'search_path=%'),
    1::bigint, 'running it twice leaves one search_path default');
GRANT USAGE ON SCHEMA app_audit TO app_service;
GRANT SELECT, UPDATE ON app_audit.impersonation_log, data.rate_limits TO app_service;
SELECT lives_ok($$SELECT myappctx.setup_app_role('app_service')$$, 'setup_app_role after a stray grant');
SELECT ok(NOT has_table_privilege('app_service', 'app_audit.impersonation_log', 'SELECT, UPDATE')
          AND NOT has_table_privilege('app_service', 'data.rate_limits', 'SELECT, UPDATE')
          AND NOT has_schema_privilege('app_service', 'app_audit', 'USAGE'),
    'setup_app_role revokes stray rights on the log and the rate limits');

SELECT * FROM finish();
ROLLBACK;
