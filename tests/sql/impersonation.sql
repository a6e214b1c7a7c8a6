-- pgTAP: impersonation (006_security.sql). Every refusal is checked with its
-- exact SQLSTATE, as the app role; the log is checked as the superuser (the
-- app role cannot read it).
SELECT gen_random_uuid() AS admin, gen_random_uuid() AS admin2,
       gen_random_uuid() AS plain, gen_random_uuid() AS norole,
       gen_random_uuid() AS unknown, gen_random_uuid() AS t1 \gset

BEGIN;
SELECT plan(43);

INSERT INTO data.users (id, email, role) VALUES
    (:'admin', 'admin@example.com', 'admin'),
    (:'admin2', 'admin2@example.com', 'admin'),
    (:'plain', 'plain@example.com', 'user'),
    (:'norole', 'norole@example.com', NULL);

-- An open row left by an earlier backend that had the same pid: it started
-- before this backend did, so ending our impersonation must not close it.
INSERT INTO app_audit.impersonation_log (admin_user_id, target_user_id, started_at, backend_pid)
VALUES (:'admin', :'plain', '2000-01-01 00:00:00+00', pg_backend_pid());

SET LOCAL ROLE app_service;

-- Fail closed
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'plain'), 'P0050', NULL,
    'no context: P0050');
SELECT lives_ok(format('SELECT api.set_context(%L, %L, %L)', :'unknown', :'t1', 'admin'),
    'context for a user not in data.users, claiming role admin');
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'plain'), 'P0053',
    'Only admins can impersonate users', 'unknown current user: P0053 (the spec let it through)');
SELECT lives_ok(format('SELECT api.set_context(%L, %L, %L)', :'norole', :'t1', 'admin'),
    'context for a user whose role is NULL');
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'plain'), 'P0053', NULL,
    'user with a NULL role: P0053 (the spec let it through)');
SELECT lives_ok(format('SELECT api.set_context(%L, %L, %L)', :'plain', :'t1', 'admin'),
    'context for a plain user claiming role admin in the context');
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'norole'), 'P0053', NULL,
    'non-admin (by data.users, not by the context role): P0053');

SELECT lives_ok(format('SELECT api.set_context(%L, %L, %L)', :'admin', :'t1', 'admin'), 'admin context');
SELECT throws_ok('SELECT api.impersonate_user(NULL)', 'P0057', NULL, 'NULL target: P0057');
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'unknown'), 'P0057', NULL,
    'unknown target: P0057');
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'admin'), 'P0058', NULL,
    'impersonating oneself: P0058');
SELECT throws_ok('SELECT api.end_impersonation()', 'P0056', 'Not currently impersonating',
    'end_impersonation when not impersonating: P0056');
SELECT is(api.get_context()->'is_impersonating', 'false'::jsonb, 'refusals changed nothing');

-- Start
SELECT lives_ok(format('SELECT api.impersonate_user(%L)', :'plain'), 'admin impersonates a plain user');
SELECT is(private.get_current_user_id(), :'plain'::uuid, 'current user is the target');
SELECT is(private.get_original_user_id(), :'admin'::uuid, 'original user is the admin');
SELECT is(private.is_impersonating(), true, 'is_impersonating()');
SELECT is(current_setting('myapp.is_impersonating'), 'true', 'myapp.is_impersonating flag');
SELECT is(private.get_current_role(), 'user', 'the context role is the target''s role, not admin');
SELECT is(private.get_current_tenant_id(), :'t1'::uuid, 'the tenant is kept');
SELECT is((api.get_context()->>'is_impersonating')::boolean, true, 'get_context reports impersonation');
SELECT is(api.get_context()->>'original_user_id', :'admin', 'get_context reports the original user');

-- While impersonating
SELECT throws_ok(format('SELECT api.impersonate_user(%L)', :'admin2'), 'P0055', NULL,
    'nested impersonation: P0055');
SELECT throws_ok(format('SELECT api.set_context(%L)', :'admin2'), 'P0055', NULL,
    'set_context while impersonating: P0055');
SELECT throws_ok(format('SELECT api.set_transaction_context(%L)', :'admin2'), 'P0055', NULL,
    'set_transaction_context while impersonating: P0055');
SELECT is(private.get_current_user_id(), :'plain'::uuid, 'still the target after the refusals');
SELECT throws_ok('SELECT * FROM app_audit.impersonation_log', '42501', NULL,
    'the app role cannot read the impersonation log');

RESET ROLE;
SELECT results_eq(
    format($q$SELECT admin_user_id, target_user_id, backend_pid, started_at, ended_at
              FROM app_audit.impersonation_log
              WHERE admin_user_id = %L AND started_at > '2000-01-01'$q$, :'admin'),
    format('VALUES (%L::uuid, %L::uuid, pg_backend_pid(), now(), NULL::timestamptz)', :'admin', :'plain'),
    'the start is logged: admin, target, backend pid, start time, still open');
SET LOCAL ROLE app_service;

-- End
SELECT lives_ok('SELECT api.end_impersonation()', 'end_impersonation');
SELECT is(private.get_current_user_id(), :'admin'::uuid, 'the admin is the current user again');
SELECT is(private.get_current_role(), 'admin', 'the admin''s context role is back');
SELECT is(private.get_original_user_id(), NULL::uuid, 'no original user');
SELECT is(private.is_impersonating(), false, 'not impersonating');
SELECT is(current_setting('myapp.is_impersonating'), 'false', 'myapp.is_impersonating flag cleared');
SELECT throws_ok('SELECT api.end_impersonation()', 'P0056', NULL, 'ending twice: P0056');
SELECT lives_ok(format('SELECT api.set_context(%L, %L)', :'admin', :'t1'), 'set_context works again');

-- A target without a role: the context role becomes unset
SELECT lives_ok(format('SELECT api.impersonate_user(%L)', :'norole'), 'admin impersonates a user without a role');
SELECT is(private.get_current_role(), NULL, 'the context role is unset, not admin');
SELECT lives_ok('SELECT api.end_impersonation()', 'and ends it');
SELECT is(private.get_current_role(), 'user', 'the admin''s context role (user, from set_context) is back');

RESET ROLE;
SELECT results_eq(
    format($q$SELECT target_user_id, ended_at FROM app_audit.impersonation_log
              WHERE admin_user_id = %L AND started_at > '2000-01-01' ORDER BY id$q$, :'admin'),
    format('VALUES (%L::uuid, now()), (%L::uuid, now())', :'plain', :'norole'),
    'the end is logged: both rows closed with ended_at');
SELECT is(
    (SELECT ended_at FROM app_audit.impersonation_log
     WHERE admin_user_id = :'admin' AND started_at = '2000-01-01 00:00:00+00'),
    NULL::timestamptz,
    'an open row from before this backend started is left alone');
SELECT is(
    (SELECT count(*) FROM app_audit.impersonation_log WHERE admin_user_id IN (:'unknown', :'norole', :'plain')),
    0::bigint,
    'refused attempts logged nothing');

SELECT * FROM finish();
ROLLBACK;
