-- pgTAP: audit context (003_audit.sql, reader in 002_context.sql).
-- Transaction scope is checked with a nested GUC scope, as in context.sql.
BEGIN;
SELECT plan(10);

CREATE FUNCTION pg_temp.in_nested_scope(in_sql text)
RETURNS void
LANGUAGE plpgsql
SET myapp.audit_context = ''
AS $$ BEGIN EXECUTE in_sql; END $$;

SET LOCAL ROLE app_service;

SELECT is(private.get_audit_context(), NULL::jsonb, 'no audit context at first');
DO $$ BEGIN PERFORM set_config('myapp.audit_context', '', false); END $$;
SELECT is(private.get_audit_context(), NULL::jsonb, ''''' audit context reads as NULL');

SELECT lives_ok($$SELECT api.set_audit_context('refund requested', 'TICKET-42')$$,
    'set_audit_context with reason and ticket');
SELECT is(private.get_audit_context(),
    jsonb_build_object('reason', 'refund requested', 'ticket', 'TICKET-42', 'timestamp', now()),
    'audit context holds reason, ticket and the transaction time');
SELECT is(api.get_context()->'audit', private.get_audit_context(),
    'get_context reports the audit context');

SELECT lives_ok('SELECT api.set_audit_context()', 'set_audit_context with defaults');
SELECT is(private.get_audit_context(),
    jsonb_build_object('reason', null, 'ticket', null, 'timestamp', now()),
    'defaults give null reason and ticket');

SELECT lives_ok($$SELECT api.set_audit_context('first')$$, 'an audit context to keep');
SELECT lives_ok($$SELECT pg_temp.in_nested_scope('SELECT api.set_audit_context(''inner'')')$$,
    'set_audit_context inside a nested GUC scope');
SELECT is(private.get_audit_context()->>'reason', 'first',
    'set_audit_context is transaction-local (set_config(..., true)): the scope undid it');

RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
