-- pgTAP: application settings (004_settings.sql, key rule in 001_schemas.sql).
-- Keys carry a random suffix so that files running in parallel never touch
-- the same row.
SELECT 'k_' || substr(md5(random()::text), 1, 12) AS k1,
       'k_' || substr(md5(random()::text), 1, 12) AS k2 \gset

BEGIN;
SELECT plan(34);

-- A nested GUC scope that saves myapp.<k1>: a transaction-local set inside it
-- would be undone on return, a session-level one survives.
SELECT format($f$
    CREATE FUNCTION pg_temp.in_nested_scope(in_sql text)
    RETURNS void
    LANGUAGE plpgsql
    SET myapp.%s = ''
    AS $$ BEGIN EXECUTE in_sql; END $$
$f$, :'k1') \gexec

-- The key rule
SELECT is(
    (SELECT count(*) FROM unnest(private.context_variable_names()) AS n
     WHERE private.is_valid_setting_key(n)),
    0::bigint,
    'no context variable name is a valid setting key');
SELECT ok(private.is_valid_setting_key('default_page_size'), 'default_page_size is a valid key');
SELECT ok(private.is_valid_setting_key('a' || repeat('b', 62)), 'a 63-character key is valid');
SELECT ok(NOT private.is_valid_setting_key('a' || repeat('b', 63)), 'a 64-character key is not');
SELECT ok(NOT private.is_valid_setting_key(NULL), 'NULL is not a valid key');
SELECT ok(NOT private.is_valid_setting_key(E'abc\n'), 'a trailing newline is not accepted');
SELECT throws_ok($$INSERT INTO data.app_settings (key, value) VALUES ('current_user_id', 'x')$$,
    '23514', NULL, 'the table itself refuses a reserved key (even for a superuser)');

SET LOCAL ROLE app_service;

-- set_app_setting
SELECT throws_ok($$SELECT api.set_app_setting('current_user_id', 'x')$$, 'P0058', NULL,
    'set_app_setting refuses current_user_id');
SELECT throws_ok($$SELECT api.set_app_setting('current_tenant_id', 'x')$$, 'P0058', NULL,
    'set_app_setting refuses current_tenant_id');
SELECT throws_ok($$SELECT api.set_app_setting('is_impersonating', 'true')$$, 'P0058', NULL,
    'set_app_setting refuses is_impersonating');
SELECT throws_ok($$SELECT api.set_app_setting('Upper', 'x')$$, 'P0058', NULL, 'upper case key refused');
SELECT throws_ok($$SELECT api.set_app_setting('1abc', 'x')$$, 'P0058', NULL, 'key starting with a digit refused');
SELECT throws_ok($$SELECT api.set_app_setting('a.b', 'x')$$, 'P0058', NULL, 'dotted key refused');
SELECT throws_ok($$SELECT api.set_app_setting('', 'x')$$, 'P0058', NULL, 'empty key refused');
SELECT throws_ok($$SELECT api.set_app_setting(NULL, 'x')$$, 'P0058', NULL, 'NULL key refused');
SELECT throws_ok(format('SELECT api.set_app_setting(%L, NULL)', :'k1'), 'P0058', NULL, 'NULL value refused');

SELECT lives_ok(format('SELECT api.set_app_setting(%L, %L, %L)', :'k1', 'v1', 'first key'),
    'set_app_setting inserts');
SELECT results_eq(format('SELECT value, description, updated_at FROM data.app_settings WHERE key = %L', :'k1'),
    $$VALUES ('v1'::text, 'first key'::text, now())$$,
    'the row holds value, description and updated_at');
SELECT lives_ok(format('SELECT api.set_app_setting(%L, %L)', :'k1', 'v1b'), 'set_app_setting updates');
SELECT results_eq(format('SELECT value, description FROM data.app_settings WHERE key = %L', :'k1'),
    $$VALUES ('v1b'::text, 'first key'::text)$$,
    'update changes the value and keeps the description when none is given');
SELECT lives_ok(format('SELECT api.set_app_setting(%L, %L, %L)', :'k1', 'v1c', 'new text'),
    'set_app_setting updates the description');
SELECT is((SELECT description FROM data.app_settings WHERE key = :'k1'), 'new text',
    'a given description replaces the old one');
SELECT lives_ok(format('SELECT api.set_app_setting(%L, %L)', :'k2', ''), 'an empty value is allowed');

-- load_app_settings / get_app_setting
SELECT is(private.get_app_setting(:'k1'), NULL, 'not loaded yet: NULL');
SELECT is(private.get_app_setting(:'k1', 'dflt'), 'dflt', 'not loaded yet: the default');
SELECT is(api.load_app_settings(), (SELECT count(*)::integer FROM data.app_settings),
    'load_app_settings returns how many settings it loaded');
SELECT is(private.get_app_setting(:'k1'), 'v1c', 'a loaded setting is readable');
SELECT is(current_setting('myapp.' || :'k1'), 'v1c', 'it lives in myapp.<key>');
SELECT is(private.get_app_setting(:'k2', 'dflt'), 'dflt', 'an empty value falls back to the default');
SELECT is(private.get_app_setting('no_such_key_' || :'k1', 'dflt'), 'dflt', 'a missing key gives the default');
SELECT ok(:'k1' = ANY (string_to_array(current_setting('myapp.loaded_settings'), ',')),
    'loaded keys are tracked in myapp.loaded_settings');

SELECT lives_ok(format('SELECT api.set_app_setting(%L, %L)', :'k1', 'v1d'), 'change the value again');
SELECT lives_ok('SELECT pg_temp.in_nested_scope(''SELECT api.load_app_settings()'')',
    'load_app_settings inside a nested GUC scope');
SELECT is(private.get_app_setting(:'k1'), 'v1d', 'load_app_settings is session-scoped: the value survives the scope');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
