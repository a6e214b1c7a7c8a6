-- pgTAP: rate limiting, its cleanup and api.send_email (007_rate_limit.sql).
-- Counters are read as the superuser: the app role has no rights on them.
SELECT gen_random_uuid() AS u1, gen_random_uuid() AS u2,
       'act_' || substr(md5(random()::text), 1, 10) AS act \gset

BEGIN;
SELECT plan(36);

INSERT INTO data.users (id, email, role) VALUES (:'u1', 'rl1@example.com', 'user'),
                                                 (:'u2', 'rl2@example.com', 'user');
-- Old and recent counters for the cleanup tests.
INSERT INTO data.rate_limits (user_id, action, window_start, count) VALUES
    (:'u2', :'act', now() - interval '3 days', 5),
    (:'u2', :'act', now() - interval '2 days', 5),
    (:'u2', :'act', now() - interval '1 hour', 5);

-- Window arithmetic (fixed instants)
SELECT is(private.rate_limit_window_start('2024-01-01 12:00:59.6+00', 60),
    '2024-01-01 12:00:00+00'::timestamptz,
    'window start is floored: 12:00:59.6 is in the 12:00:00 window (the spec gave 12:00:59)');
SELECT is(private.rate_limit_window_start('2024-01-01 12:01:00+00', 60),
    '2024-01-01 12:01:00+00'::timestamptz, 'a window boundary starts its own window');
SELECT is(private.rate_limit_window_start('2024-01-01 12:34:56.7+00', 3600),
    '2024-01-01 12:00:00+00'::timestamptz, 'hour windows align to the hour');
SELECT is(private.rate_limit_window_start('2024-01-01 12:00:00.4+00', 1),
    '2024-01-01 12:00:00+00'::timestamptz, '1-second windows');

SET LOCAL ROLE app_service;

-- Arguments and context
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, 3, 60)', :'act'), 'P0050', NULL,
    'no user context: P0050 (the spec inserted a NULL user)');
SELECT lives_ok(format('SELECT api.set_context(%L)', :'u1'), 'a context');
SELECT throws_ok('SELECT private.check_rate_limit(NULL, 3, 60)', 'P0058', NULL, 'NULL action: P0058');
SELECT throws_ok($$SELECT private.check_rate_limit('', 3, 60)$$, 'P0058', NULL, 'empty action: P0058');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, NULL, 60)', :'act'), 'P0058', NULL, 'NULL max: P0058');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, -1, 60)', :'act'), 'P0058', NULL, 'negative max: P0058');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, 3, NULL)', :'act'), 'P0058', NULL, 'NULL window: P0058');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, 3, 0)', :'act'), 'P0058', NULL,
    'zero window: P0058 (the spec divided by zero)');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, 3, -60)', :'act'), 'P0058', NULL, 'negative window: P0058');

-- Counting
SELECT is(private.check_rate_limit(:'act', 3, 60), true, 'request 1 of 3');
SELECT is(private.check_rate_limit(:'act', 3, 60), true, 'request 2 of 3');
SELECT is(private.check_rate_limit(:'act', 3, 60), true, 'request 3 of 3');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, 3, 60)', :'act'), 'P0054',
    'Rate limit exceeded for action: ' || :'act', 'request 4 of 3: P0054');
SELECT is(private.check_rate_limit(:'act' || '_other', 3, 60), true, 'another action has its own counter');
SELECT throws_ok(format('SELECT private.check_rate_limit(%L, 0, 60)', :'act' || '_zero'), 'P0054', NULL,
    'max 0 refuses the first request');

RESET ROLE;
SELECT results_eq(
    format('SELECT count, window_start FROM data.rate_limits WHERE user_id = %L AND action = %L', :'u1', :'act'),
    format('VALUES (3, private.rate_limit_window_start(now(), 60))'),
    'one row for the window, count 3 (the refused request was rolled back)');
SELECT ok(
    (SELECT window_start <= now() AND now() < window_start + interval '60 seconds'
            AND extract(epoch FROM window_start)::numeric % 60 = 0
     FROM data.rate_limits WHERE user_id = :'u1' AND action = :'act'),
    'the stored window contains now and is aligned to 60 seconds');
SET LOCAL ROLE app_service;

SELECT lives_ok(format('SELECT api.set_context(%L)', :'u2'), 'another user');
SELECT is(private.check_rate_limit(:'act', 3, 60), true, 'another user has its own counter');

-- Cleanup
SELECT throws_ok('SELECT api.cleanup_rate_limits(NULL)', 'P0058', NULL, 'cleanup: NULL interval: P0058');
SELECT throws_ok($$SELECT api.cleanup_rate_limits('0')$$, 'P0058', NULL, 'cleanup: zero interval: P0058');
SELECT throws_ok($$SELECT api.cleanup_rate_limits('-1 day')$$, 'P0058', NULL, 'cleanup: negative interval: P0058');
SELECT ok(api.cleanup_rate_limits() >= 2, 'cleanup (default 1 day) reports the rows it deleted');

RESET ROLE;
SELECT results_eq(
    format('SELECT window_start FROM data.rate_limits WHERE user_id = %L AND action = %L ORDER BY 1', :'u2', :'act'),
    format($q$VALUES (now() - interval '1 hour'), (private.rate_limit_window_start(now(), 60))$q$),
    'windows older than a day are gone, recent ones stay');
SET LOCAL ROLE app_service;
SELECT is(api.cleanup_rate_limits('30 minutes') >= 1, true, 'a shorter interval deletes more');

-- send_email
SELECT throws_ok($$SELECT api.send_email(NULL, 's', 'b')$$, 'P0058', NULL, 'send_email: no recipient: P0058');
SELECT throws_ok($$SELECT api.send_email('  ', 's', 'b')$$, 'P0058', NULL, 'send_email: blank recipient: P0058');
DO $$ BEGIN PERFORM set_config('myapp.current_user_id', '', false); END $$;
SELECT throws_ok($$SELECT api.send_email('a@example.com', 's', 'b')$$, 'P0050', NULL,
    'send_email without context: P0050');
SELECT lives_ok(format('SELECT api.set_context(%L)', :'u1'), 'a context to send mail');
SELECT lives_ok($$SELECT api.send_email('to' || g || '@example.com', 'subject ' || g, 'body')
                  FROM generate_series(1, 10) AS g$$,
    'ten mails in a minute are allowed');
SELECT throws_ok($$SELECT api.send_email('eleven@example.com', 's', 'b')$$, 'P0054',
    'Rate limit exceeded for action: send_email', 'the eleventh mail: P0054');

RESET ROLE;
SELECT results_eq(
    format('SELECT count(*), min(to_addr), bool_and(created_at = now()) FROM data.email_outbox WHERE user_id = %L', :'u1'),
    $$VALUES (10::bigint, 'to10@example.com'::text, true)$$,
    'ten mails were queued for the user');

SELECT * FROM finish();
ROLLBACK;
