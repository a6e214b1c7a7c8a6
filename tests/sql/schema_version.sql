-- pgTAP: api.schema_version() (011_schema_version.sql), what the library's
-- schema check reads: the highest core migration recorded, for the
-- application role too, which cannot read myappctx.schema_migrations.
SELECT max(version) AS core_version FROM myappctx.schema_migrations WHERE kind = 'core' \gset

BEGIN;
SELECT plan(5);
SELECT is(api.schema_version(), :core_version, 'the highest core migration recorded');
SELECT ok(api.schema_version() >= 11, 'at least the migration that adds it');
SELECT ok(NOT has_function_privilege('public', 'api.schema_version()', 'EXECUTE'),
          'PUBLIC cannot execute it');

SET LOCAL ROLE app_service;
SELECT is(api.schema_version(), :core_version, 'the application role can read it');
RESET ROLE;

-- Demo migrations are numbered apart: they do not count.
INSERT INTO myappctx.schema_migrations (kind, version, name, checksum)
VALUES ('demo', 9999, '9999_demo.sql', 'x');
SELECT is(api.schema_version(), :core_version, 'demo migrations are not counted');

SELECT * FROM finish();
ROLLBACK;
