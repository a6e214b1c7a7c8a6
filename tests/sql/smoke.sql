-- Smoke test of the pgTAP wiring: the schema is installed and pgTAP works.
BEGIN;
SELECT plan(2);
SELECT has_schema('myappctx', 'installer bookkeeping schema exists');
SELECT ok((SELECT count(*) FROM myappctx.schema_migrations WHERE kind = 'core') > 0,
          'core migrations are recorded');
SELECT * FROM finish();
ROLLBACK;
