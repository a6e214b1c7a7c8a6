-- private.session_is_clean(), private.session_baseline() and private.begin_pooled_unit():
-- the session counts as clean exactly when the pool's targeted reset would change nothing.
BEGIN;
SELECT plan(15);

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
SELECT set_config('myapp.loaded_settings', 'site_name', true);
SELECT set_config('myapp.site_name', 'Baseline', true);
SELECT ok((SELECT names @> '{myapp.loaded_settings,myapp.site_name}'
                  AND "values" @> '{Baseline}' FROM private.session_baseline()),
          'session_baseline lists loaded settings with their values');
SELECT set_config('myapp.loaded_settings', '', true);
SELECT is(provolatile, 's'::"char", 'session_is_clean is STABLE')
FROM pg_proc WHERE oid = 'private.session_is_clean(boolean, text[], text[])'::regprocedure;

-- begin_pooled_unit(): resets only a dirty session, then sets the context.
SELECT ok(NOT private.begin_pooled_unit(gen_random_uuid(), NULL, NULL, false, '{}', '{}',
                                        session_user, current_setting('application_name')),
          'a clean session is not reset');
SELECT ok(private.get_current_user_id() IS NOT NULL, 'the unit''s user is set');
SELECT set_config('myapp.session_id', 'left-behind', false);
SELECT ok(private.begin_pooled_unit(gen_random_uuid(), NULL, NULL, false, '{}', '{}',
                                    session_user, current_setting('application_name')),
          'a dirty session is reset');
SELECT is(COALESCE(current_setting('myapp.session_id', true), ''), '',
          'what the previous borrower left is gone');
SELECT ok(private.begin_pooled_unit(gen_random_uuid(), NULL, NULL, false, '{}', '{}',
                                    session_user, 'another application name'),
          'an application_name other than the one at connect counts as dirty');

SELECT * FROM finish();
ROLLBACK;
