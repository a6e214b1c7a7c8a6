-- private.session_is_clean() and private.session_role_defaults(): true
-- exactly when the pool's targeted reset would change nothing.
BEGIN;
SELECT plan(10);

SELECT ok(private.session_is_clean(), 'a fresh session is clean');

-- Every context variable makes the session dirty (the function spells the
-- names out; this keeps it in step with private.context_variable_names()).
SELECT is(
    (SELECT array_agg(n ORDER BY n) FROM unnest(private.context_variable_names()) AS n
     WHERE n <> 'loaded_settings'
       AND NOT (SELECT private.session_is_clean()
                FROM (SELECT set_config('myapp.' || n, 'x', true)) AS s)),
    (SELECT array_agg(n ORDER BY n) FROM unnest(private.context_variable_names()) AS n
     WHERE n <> 'loaded_settings'),
    'each context variable, when set, makes the session dirty');
SELECT set_config('myapp.' || n, '', true) FROM unnest(private.context_variable_names()) AS n;
SELECT ok(private.session_is_clean(), 'empty values read as unset: clean again');

SELECT set_config('myapp.loaded_settings', 'site_name', true);
SELECT ok(NOT private.session_is_clean(false), 'loaded settings are dirty when the baseline has none');
SELECT ok(private.session_is_clean(true), 'loaded settings are the baseline when the pool loads them');
SELECT set_config('myapp.loaded_settings', '', true);

SELECT ok(private.session_is_clean(false, '{myapp.default_page_size}', '{25}')
              = (COALESCE(current_setting('myapp.default_page_size', true), '') = '25'),
          'a role default compares with its value');
SELECT set_config('myapp.default_page_size', '99', true);
SELECT ok(NOT private.session_is_clean(false, '{myapp.default_page_size}', '{25}'),
          'a changed role-default variable is dirty');

SET LOCAL ROLE app_service;
SELECT ok(NOT private.session_is_clean(), 'a role other than the session user is dirty');
RESET ROLE;

-- As the app role's session would see them: its role default is listed.
SELECT ok((SELECT 'myapp.default_page_size' = ANY (names) FROM private.session_role_defaults())
              OR session_user <> 'app_service',
          'session_role_defaults lists the app role''s myapp defaults in its own sessions');
SELECT is(provolatile, 's'::"char", 'session_is_clean is STABLE')
FROM pg_proc WHERE oid = 'private.session_is_clean(boolean, text[], text[])'::regprocedure;

SELECT * FROM finish();
ROLLBACK;
