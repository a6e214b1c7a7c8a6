-- pgTAP: connection validation, initialisation, idle cleanup and statistics
-- (005_lifecycle.sql).
-- cleanup_idle_connections is only called with a timeout no backend can
-- reach: under SET ROLE the session user is the superuser running the tests,
-- and a real termination would hit that user's other connections. The C
-- integration tests cover real termination with their own login role.
SELECT 'k_' || substr(md5(random()::text), 1, 12) AS k1,
       gen_random_uuid() AS u1, gen_random_uuid() AS t1 \gset

BEGIN;
SELECT plan(24);

INSERT INTO data.app_settings (key, value) VALUES (:'k1', 'loaded by init');
DO $$ BEGIN PERFORM set_config('timezone', 'Europe/Paris', false);
            PERFORM set_config('datestyle', 'German, DMY', false); END $$;
SELECT coalesce(max(id), 0) AS log_before FROM data.connection_log \gset

SET LOCAL ROLE app_service;

-- validate_connection
SELECT ok(api.validate_connection() ?& ARRAY['user_id', 'tenant_id', 'application_name',
        'server_version', 'timezone', 'search_path', 'is_superuser'],
    'validate_connection has the spec''s keys');
SELECT is(api.validate_connection()->>'server_version', current_setting('server_version'),
    'validate_connection: server_version');
SELECT is(api.validate_connection()->>'search_path', current_setting('search_path'),
    'validate_connection: search_path');
SELECT is(api.validate_connection()->>'is_superuser', 'off',
    'validate_connection: is_superuser is off for the app role');
SELECT is(api.validate_connection()->'user_id', 'null'::jsonb, 'validate_connection: no user is null');
SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'u1', :'t1'), 'a context');
SELECT is(api.validate_connection()->>'user_id', :'u1', 'validate_connection: user_id');
SELECT is(api.validate_connection()->>'tenant_id', :'t1', 'validate_connection: tenant_id');
SELECT is(api.validate_connection()->>'application_name', current_setting('application_name'),
    'validate_connection: application_name');

-- init_connection
SELECT lives_ok('SELECT api.init_connection()', 'init_connection runs as the app role');
SELECT is(current_setting('timezone'), 'UTC', 'init_connection sets timezone UTC');
SELECT is(current_setting('datestyle'), 'ISO, MDY', 'init_connection sets datestyle ISO, MDY');
SELECT is(private.get_app_setting(:'k1'), 'loaded by init', 'init_connection loads the app settings');
SELECT throws_ok('SELECT * FROM data.connection_log', '42501', NULL,
    'the app role may write the connection log but not read it');

-- cleanup_idle_connections
SELECT throws_ok('SELECT api.cleanup_idle_connections(NULL)', 'P0058', NULL,
    'cleanup_idle_connections: NULL timeout raises P0058');
SELECT throws_ok($$SELECT api.cleanup_idle_connections('0 seconds')$$, 'P0058', NULL,
    'cleanup_idle_connections: zero timeout raises P0058');
SELECT throws_ok($$SELECT api.cleanup_idle_connections('-5 minutes')$$, 'P0058', NULL,
    'cleanup_idle_connections: negative timeout raises P0058');
SELECT is(api.cleanup_idle_connections('1000 years'), 0,
    'cleanup_idle_connections: nothing idle that long, nothing terminated');

-- statistics
SELECT ok((SELECT count(*) FROM api.v_connection_stats) >= 1,
    'v_connection_stats is readable by the app role and lists this backend');
SELECT is(
    (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
     WHERE attrelid = 'api.v_connection_stats'::regclass AND attnum > 0),
    ARRAY['username', 'application_name', 'client_addr', 'state', 'state_change',
          'idle_time', 'query', 'wait_event_type', 'wait_event'],
    'v_connection_stats has the spec''s columns');
SELECT is(
    (SELECT sum(count) FROM api.get_connection_summary()),
    (SELECT count(*)::numeric FROM pg_stat_activity WHERE datname = current_database()),
    'get_connection_summary counts every backend of this database');
SELECT is(
    (SELECT count(*) FROM api.get_connection_summary()),
    (SELECT count(DISTINCT coalesce(state, '<null>')) FROM api.get_connection_summary()),
    'get_connection_summary returns one row per state');
SELECT ok(
    (SELECT bool_and(avg_idle_seconds >= 0 AND scale(avg_idle_seconds) <= 2)
     FROM api.get_connection_summary() WHERE avg_idle_seconds IS NOT NULL) IS NOT FALSE,
    'get_connection_summary: avg_idle_seconds is non-negative, rounded to 2 places');

RESET ROLE;

SELECT results_eq(
    format('SELECT backend_pid, connected_at, application_name FROM data.connection_log WHERE id > %s AND backend_pid = pg_backend_pid()', :'log_before'),
    format('VALUES (pg_backend_pid(), now(), %L)', current_setting('application_name')),
    'init_connection logged one row for this backend');
SELECT * FROM finish();
ROLLBACK;
