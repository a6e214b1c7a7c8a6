-- pgTAP: every PL/pgSQL function in the test database passes plpgsql_check
-- (extension created by tests/harness/setup-db.sh) with other, extra,
-- performance and security warnings: no error and no warning of any level.
--
-- "Every function" is every plpgsql function outside pg_catalog,
-- information_schema and temporary schemas that belongs to no extension:
-- the core migrations (api, private, myappctx, any schema a later migration
-- creates) and the demo objects (sql/demo/).  Trigger functions are checked
-- once for each table a trigger attaches them to (pg_trigger, with its
-- transition tables); one attached to no table cannot be checked and fails
-- its own test.  A real false positive is suppressed in the function itself
-- with a plpgsql_check in-comment option that says why, never here.
-- The findings are printed with diag() when there are any.
BEGIN;
SELECT plan(4);

SELECT has_extension('plpgsql_check', 'plpgsql_check is installed in the test database');

CREATE TEMP VIEW plpgsql_functions AS
SELECT p.oid, p.oid::regprocedure::text AS func,
       p.prorettype = 'pg_catalog.trigger'::regtype AS is_trigger
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
WHERE l.lanname = 'plpgsql'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.oid <> pg_my_temp_schema()
  AND NOT pg_is_other_temp_schema(n.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                    AND d.objid = p.oid
                    AND d.deptype = 'e');

-- Not vacuous: core functions of several schemas and the demo's are among them.
SELECT set_has(
    'SELECT func FROM plpgsql_functions',
    $$VALUES ('api.set_context(uuid,uuid,text,text,jsonb)'),
             ('private.begin_pooled_unit(uuid,uuid,text,boolean,text[],text[],text,text)'),
             ('myappctx.setup_app_role(name,boolean)'),
             ('api.get_my_orders()'),
             ('myappctx.setup_demo_grants(name)')$$,
    'the check covers the core migrations and the demo objects');

SELECT is_empty(
    $$SELECT func FROM plpgsql_functions AS f
      WHERE f.is_trigger
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t WHERE t.tgfoid = f.oid)$$,
    'every plpgsql trigger function is attached to a table (plpgsql_check needs one)');

CREATE TEMP TABLE plpgsql_check_findings AS
SELECT f.func, t.tgrelid::regclass AS trigger_table, cf.lineno, cf.statement, cf.sqlstate,
       cf.level, cf.message, cf.detail, cf.hint, cf.query, cf.context
FROM plpgsql_functions AS f
LEFT JOIN pg_catalog.pg_trigger AS t ON t.tgfoid = f.oid
CROSS JOIN LATERAL plpgsql_check_function_tb(
    f.oid, COALESCE(t.tgrelid, 0),
    fatal_errors         := false,
    other_warnings       := true,
    extra_warnings       := true,
    performance_warnings := true,
    security_warnings    := true,
    oldtable             := t.tgoldtable,
    newtable             := t.tgnewtable) AS cf
WHERE NOT f.is_trigger OR t.tgfoid IS NOT NULL;

SELECT is(
    (SELECT count(*) FROM plpgsql_check_findings), 0::bigint,
    'plpgsql_check (other, extra, performance, security): no errors, no warnings');

SELECT diag(string_agg(
           format('%s%s line %s (%s): %s %s: %s%s%s%s%s',
                  func, COALESCE(' on ' || trigger_table::text, ''),
                  COALESCE(lineno::text, '-'), COALESCE(statement, '-'),
                  level, sqlstate, message,
                  COALESCE(E'\n  detail: ' || detail, ''),
                  COALESCE(E'\n  hint: ' || hint, ''),
                  COALESCE(E'\n  query: ' || query, ''),
                  COALESCE(E'\n  context: ' || context, '')),
           E'\n' ORDER BY func, lineno NULLS FIRST))
FROM plpgsql_check_findings
HAVING count(*) > 0;

SELECT * FROM finish();
ROLLBACK;
