/* Units of work are clean by construction (lib/pipeline/unit.c), whatever
 * an earlier borrower or earlier statement left in the session, in every
 * pool mode and behind PgBouncer, at no extra round trip; and the pool's
 * edges leak nothing: impersonations end (logged) however a connection
 * leaves, notifications stay with the borrower they were for. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char other_role[64];
static myappctx_uuid admin, target, user;

/* The foreign role is never dropped: PgBouncer keeps server connections
 * that a test left under SET ROLE, and a dropped role in force breaks them. */
static void
setup(void)
{
    snprintf(other_role, sizeof other_role, "un_other");
    myappctx_conn *c = tu_connect();
    tu_sql(myappctx_conn_pg(c),
           "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'un_other') THEN "
           "CREATE ROLE un_other; END IF; END $$; GRANT un_other TO app_service");
    myappctx_conn_close(c);
    tu_seed_user(&admin, "admin");
    tu_seed_user(&target, "user");
    tu_random_uuid(&user, NULL);
}

static void
teardown(void)
{
}

/* What a unit must see inside itself: its own user, and nothing else. */
static const char INSIDE[] =
    "SELECT concat_ws(',', current_user = session_user, "
    "private.get_current_user_id() = $1::uuid, "
    "COALESCE(current_setting('myapp.session_id', true), '') = '', "
    "COALESCE(current_setting('myapp.current_role', true), '') = '', "
    "COALESCE(current_setting('myapp.original_user_id', true), '') = '', "
    "COALESCE(current_setting('myapp.is_impersonating', true), '') = '', "
    "NOT private.is_impersonating())";
static const char CLEAN[] = "t,t,t,t,t,t,t";

/* Leaves as much session state as raw SQL can: a foreign role last (it
 * takes away the rights the statements before it need). */
static void
leave_dirty(myappctx_conn *c, const char *app_name)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT set_config('myapp.session_id', 'leak', false), "
             "set_config('myapp.current_role', 'admin', false), "
             "set_config('myapp.original_user_id', '00000000-0000-4000-8000-000000000009', false), "
             "set_config('myapp.is_impersonating', 'true', false); "
             "SET application_name = '%s'; SET ROLE %s", app_name, other_role);
    tu_sql(myappctx_conn_pg(c), sql);
}

/* Runs the three kinds of unit on @c and checks what each sees inside. */
static void
check_units(myappctx_conn *c, const char *label)
{
    char id[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(&user, id) };
    myappctx_stmt inside = { INSIDE, 1, params };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_error err;
    PGresult *res;

    tu_expect_row(label, myappctx_run_in_context(c, &ctx, &inside, 1, &res, &err), MYAPPCTX_OK,
                  err, NULL);
    ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), CLEAN) == 0, "%s: run_in_context saw %s", label,
                  PQgetvalue(res, 0, 0));
    PQclear(res);

    tu_expect_row(label, myappctx_begin_in_context(c, &ctx, &inside, &res, &err), MYAPPCTX_OK,
                  err, NULL);
    ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), CLEAN) == 0, "%s: begin_in_context saw %s",
                  label, PQgetvalue(res, 0, 0));
    PQclear(res);
    tu_expect_row(label, myappctx_commit(c, &err), MYAPPCTX_OK, err, NULL);

    tu_expect_row(label, myappctx_begin_as_user(c, &user, NULL, NULL, &err), MYAPPCTX_OK, err,
                  NULL);
    tu_expect_row(label, myappctx_exec(c, INSIDE, 1, params, &res, &err), MYAPPCTX_OK, err, NULL);
    ck_assert_msg(strcmp(PQgetvalue(res, 0, 0), CLEAN) == 0, "%s: context_begin saw %s", label,
                  PQgetvalue(res, 0, 0));
    PQclear(res);
    tu_expect_row(label, myappctx_commit(c, &err), MYAPPCTX_OK, err, NULL);
}

/* On a plain connection: what this caller's own raw SQL left is cleared for
 * each unit (and stays in the session: the unit only masks it). */
START_TEST(plain_connection_units_start_clean)
{
    myappctx_conn *c = tu_app_connect();
    leave_dirty(c, "mine");
    check_units(c, "plain");
    tu_expect_value(c, "SELECT current_user::text", 0, NULL, other_role);
    myappctx_conn_close(c);
}
END_TEST

/* Through PgBouncer the dirty borrower's SET ROLE stays on a server
 * connection that other clients get next (that is what transaction pooling
 * does to session state outside units): these tests use a database of
 * their own, so that its pool of server connections is theirs too. */
static char *bouncer_db;
static char bouncer_conninfo[512];

static void
bouncer_setup(void)
{
    bouncer_db = tu_create_database("un_bouncer");
    myappctx_conn *c = tu_connect_opts(bouncer_db, NULL);
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = "app_service";
    myappctx_error err;
    tu_assert_ok(myappctx_schema_install(c, &opts, NULL, &err), err);
    myappctx_conn_close(c);
    const char *base = tu_pgbouncer_conninfo("app_service");
    ck_assert_msg(base != NULL, "the harness runs a PgBouncer (--pgbouncer)");
    snprintf(bouncer_conninfo, sizeof bouncer_conninfo, "%s %s", base, bouncer_db);
}

static void
bouncer_teardown(void)
{
    tu_drop_database(bouncer_db);
    free(bouncer_db);
}

static const struct { const char *name; int reset; int via_bouncer; } modes[] = {
    { "targeted", MYAPPCTX_POOL_RESET_TARGETED, 0 },
    { "discard all", MYAPPCTX_POOL_RESET_DISCARD_ALL, 0 },
    { "PgBouncer, transaction mode", MYAPPCTX_POOL_RESET_TARGETED, 1 },
};

/* The next borrower's units start clean in every reset mode and behind
 * PgBouncer, where the pool resets no session at all. */
START_TEST(next_borrower_units_start_clean)
{
    const char *conninfo = modes[_i].via_bouncer ? bouncer_conninfo : TU_APP_CONNINFO;
    myappctx_pool_config cfg = tu_pool_config(conninfo, 1, 1);
    cfg.reset = modes[_i].reset;
    cfg.txn_pooler = modes[_i].via_bouncer;
    myappctx_pool *pool = tu_pool_start(&cfg);
    for (int round = 0; round < 3; round++) {
        myappctx_conn *a = tu_pool_acquire(pool);
        leave_dirty(a, "leaky");
        myappctx_pool_release(pool, a);
        myappctx_conn *b = tu_pool_acquire(pool);
        check_units(b, modes[_i].name);
        myappctx_pool_release(pool, b);
    }
    myappctx_pool_free(pool);
}
END_TEST

/* Behind PgBouncer the unit also restores application_name for itself. */
START_TEST(bouncer_units_restore_application_name)
{
    myappctx_pool_config cfg = tu_pool_config(bouncer_conninfo, 1, 1);
    cfg.txn_pooler = 1;
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *a = tu_pool_acquire(pool);
    char *before = tu_value(a, "SELECT current_setting('application_name')", 0, NULL);
    tu_sql(myappctx_conn_pg(a), "SET application_name = 'leaky'");
    myappctx_pool_release(pool, a);
    myappctx_conn *b = tu_pool_acquire(pool);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt s = { "SELECT current_setting('application_name')", 0, NULL };
    PGresult *res;
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(b, &ctx, &s, 1, &res, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), before);
    PQclear(res);
    free(before);
    myappctx_pool_release(pool, b);
    myappctx_pool_free(pool);
}
END_TEST

/* The idiomatic pooled transaction is three round trips after a dirty
 * borrower (BEGIN + context, the statement, COMMIT), the pipelined one one:
 * no round trip of the pool's own. */
START_TEST(no_extra_round_trip_after_a_dirty_borrower)
{
    myappctx_pool *pool = tu_pool_one();
    char id[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(&user, id) };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt inside = { INSIDE, 1, params };
    myappctx_error err;
    PGresult *res;
    for (int round = 0; round < 2; round++) {     /* the second with the statement prepared */
        myappctx_conn *a = tu_pool_acquire(pool);
        tu_exec(a, "SELECT set_config('myapp.session_id', 'leak', false)", 0, NULL);
        myappctx_pool_release(pool, a);

        myappctx_conn *b = tu_pool_acquire(pool);
        tu_trace t = tu_trace_start(b);
        tu_assert_ok(myappctx_begin_as_user(b, &user, NULL, NULL, &err), err);
        tu_assert_ok(myappctx_exec(b, INSIDE, 1, params, &res, &err), err);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), CLEAN);
        PQclear(res);
        tu_assert_ok(myappctx_commit(b, &err), err);
        ck_assert_int_eq(tu_trace_round_trips(t), 3);
        myappctx_pool_release(pool, b);

        a = tu_pool_acquire(pool);
        tu_exec(a, "SELECT set_config('myapp.session_id', 'leak', false)", 0, NULL);
        myappctx_pool_release(pool, a);
        b = tu_pool_acquire(pool);
        t = tu_trace_start(b);
        tu_assert_ok(myappctx_run_in_context(b, &ctx, &inside, 1, &res, &err), err);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), CLEAN);
        PQclear(res);
        ck_assert_int_eq(tu_trace_round_trips(t), 1);
        myappctx_pool_release(pool, b);
    }
    myappctx_pool_free(pool);
}
END_TEST

/* The reset still runs before anything that is not a unit. */
START_TEST(other_calls_still_get_the_reset)
{
    myappctx_pool *pool = tu_pool_one();
    myappctx_conn *a = tu_pool_acquire(pool);
    tu_exec(a, "SELECT set_config('myapp.session_id', 'leak', false)", 0, NULL);
    myappctx_pool_release(pool, a);
    myappctx_conn *b = tu_pool_acquire(pool);
    tu_expect_value(b, "SELECT COALESCE(current_setting('myapp.session_id', true), '')", 0, NULL,
                    "");
    myappctx_pool_release(pool, b);
    myappctx_pool_free(pool);
}
END_TEST

/* The open log rows of the seeded admin. */
static long long
open_impersonations(void)
{
    char id[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(&admin, id) };
    myappctx_conn *su = tu_connect();
    long long n = tu_int(su, "SELECT count(*) FROM app_audit.impersonation_log "
                             "WHERE admin_user_id = $1::uuid AND ended_at IS NULL", 1, params);
    myappctx_conn_close(su);
    return n;
}

/* Starts an impersonation on a borrowed connection, through the library or
 * (untracked by it) through raw SQL. */
static void
impersonate(myappctx_conn *c, int raw)
{
    char t[MYAPPCTX_UUID_BUFSIZE];
    myappctx_context ctx = MYAPPCTX_CONTEXT_INIT;
    ctx.user_id = admin;
    ctx.role_label = "admin";
    myappctx_error err;
    tu_assert_ok(myappctx_context_set(c, &ctx, &err), err);
    if (raw) {
        const char *params[] = { myappctx_uuid_format(&target, t) };
        tu_exec(c, "SELECT api.impersonate_user($1::uuid)", 1, params);
    } else {
        tu_assert_ok(myappctx_impersonate(c, &target, &err), err);
    }
}

static const struct { const char *name; int reset, raw, how; } leaving[] = {
    /* how: 0 released and borrowed again, 1 pool freed, 2 lifetime over */
    { "targeted, library, released", MYAPPCTX_POOL_RESET_TARGETED, 0, 0 },
    { "targeted, raw SQL, released", MYAPPCTX_POOL_RESET_TARGETED, 1, 0 },
    { "targeted, raw SQL, pool freed", MYAPPCTX_POOL_RESET_TARGETED, 1, 1 },
    { "targeted, raw SQL, lifetime over", MYAPPCTX_POOL_RESET_TARGETED, 1, 2 },
    { "discard all, library, released", MYAPPCTX_POOL_RESET_DISCARD_ALL, 0, 0 },
    { "discard all, raw SQL, released", MYAPPCTX_POOL_RESET_DISCARD_ALL, 1, 0 },
    { "discard all, raw SQL, pool freed", MYAPPCTX_POOL_RESET_DISCARD_ALL, 1, 1 },
};

/* However a connection leaves a borrower, an impersonation it left active
 * is ended in the log (ended_at set). */
START_TEST(impersonation_always_ends_in_the_log)
{
    long long before = open_impersonations();
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    cfg.reset = leaving[_i].reset;
    if (leaving[_i].how == 2) {
        cfg.max_lifetime_ms = 300;
        cfg.max_lifetime_jitter = 0;
    }
    myappctx_pool *pool = tu_pool_start(&cfg);
    myappctx_conn *c = tu_pool_acquire(pool);
    impersonate(c, leaving[_i].raw);
    ck_assert_int_eq(open_impersonations(), before + 1);
    if (leaving[_i].how == 2)
        usleep(400 * 1000);
    myappctx_pool_release(pool, c);
    if (leaving[_i].how == 0) {
        /* The next borrower runs units only: the end must not wait for a
         * call that is not one.  (An impersonation the library did not see
         * start ends at the release after the unit that found it.) */
        c = tu_pool_acquire(pool);
        myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
        ctx.user_id = &user;
        myappctx_stmt s = { "SELECT 1", 0, NULL };
        myappctx_error err;
        tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), err);
        myappctx_pool_release(pool, c);
        ck_assert_msg(open_impersonations() == before, "%s: the log row is still open",
                      leaving[_i].name);
    }
    myappctx_pool_free(pool);
    ck_assert_msg(open_impersonations() == before, "%s: the log row is still open",
                  leaving[_i].name);
}
END_TEST

/* Notifications read on one borrower's behalf never reach the next one:
 * the reset UNLISTENs and release drops what libpq has queued. */
START_TEST(notifications_stay_with_their_borrower)
{
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    cfg.reset = modes[_i].reset;
    myappctx_pool *pool = tu_pool_start(&cfg);
    char chan[64], listen[96], notify[96];
    tu_unique("un_chan", chan, sizeof chan);
    snprintf(listen, sizeof listen, "LISTEN %s", chan);
    snprintf(notify, sizeof notify, "NOTIFY %s", chan);
    myappctx_conn *other = tu_app_connect();

    myappctx_conn *a = tu_pool_acquire(pool);
    tu_sql(myappctx_conn_pg(a), listen);
    tu_sql(myappctx_conn_pg(other), notify);      /* arrives while a holds it */
    tu_sql(myappctx_conn_pg(a), "SELECT 1");       /* ...and is read into libpq's queue */
    myappctx_pool_release(pool, a);
    tu_sql(myappctx_conn_pg(other), notify);      /* arrives after the release */

    myappctx_conn *b = tu_pool_acquire(pool);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt s = { "SELECT 1", 0, NULL };
    myappctx_error err;
    tu_assert_ok(myappctx_run_in_context(b, &ctx, &s, 1, NULL, &err), err);
    PGconn *pg = myappctx_conn_pg(b);
    tu_sql(pg, "SELECT 1");
    tu_sql(myappctx_conn_pg(other), notify);      /* after the reset: nobody listens */
    usleep(100 * 1000);
    ck_assert(PQconsumeInput(pg));
    PGnotify *n = PQnotifies(pg);
    ck_assert_msg(n == NULL, "%s: the next borrower got a notification on %s", modes[_i].name,
                  n ? n->relname : "");
    myappctx_pool_release(pool, b);
    myappctx_conn_close(other);
    myappctx_pool_free(pool);
}
END_TEST

/* A unit after the caller dropped the library's prepared statement (raw
 * DEALLOCATE ALL) prepares it again and runs. */
START_TEST(unit_survives_deallocate_all)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt s = { "SELECT private.get_current_user_id()::text", 0, NULL };
    myappctx_error err;
    PGresult *res;
    char id[MYAPPCTX_UUID_BUFSIZE];
    myappctx_uuid_format(&user, id);
    for (int i = 0; i < 3; i++) {
        tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, &res, &err), err);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), id);
        PQclear(res);
        tu_sql(myappctx_conn_pg(c), i == 0 ? "DEALLOCATE ALL" : "DISCARD ALL");
        tu_assert_ok(myappctx_begin_as_user(c, &user, NULL, NULL, &err), err);
        tu_assert_ok(myappctx_rollback(c, &err), err);
    }
    myappctx_conn_close(c);
}
END_TEST

/* An impersonation the library started is not masked by a unit under
 * another identity: refused before anything is sent. */
START_TEST(unit_refused_while_the_library_impersonates)
{
    myappctx_conn *c = tu_app_connect();
    impersonate(c, 0);
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    myappctx_stmt s = { "SELECT 1", 0, NULL };
    myappctx_error err;
    tu_trace t = tu_trace_start(c);
    tu_expect_state(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EIMPERSONATING,
                    err, "P0055");
    tu_expect_state(myappctx_begin_in_context(c, &ctx, &s, NULL, &err), MYAPPCTX_EIMPERSONATING,
                    err, "P0055");
    tu_expect_state(myappctx_begin_as_user(c, &user, NULL, NULL, &err), MYAPPCTX_EIMPERSONATING,
                    err, "P0055");
    ck_assert_int_eq(tu_trace_stop(t), 0);
    tu_assert_ok(myappctx_impersonation_end(c, &err), err);
    tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), err);
    myappctx_conn_close(c);
}
END_TEST

/* A unit may run as a database role the login role is a member of (SET
 * LOCAL ROLE), distinct from the application's role label; after the unit
 * the login role is back.  Not a member: refused by the server. */
START_TEST(unit_runs_as_its_db_role)
{
    myappctx_conn *c = tu_app_connect();
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    ctx.role_label = "admin";
    ctx.db_role = other_role;
    /* The db role has no rights on the schema: read the label raw. */
    myappctx_stmt s = { "SELECT current_user::text || ',' || current_setting('myapp.current_role')", 0, NULL };
    PGresult *res;
    myappctx_error err;
    for (int dirty = 0; dirty <= 1; dirty++) {
        if (dirty)
            tu_sql(myappctx_conn_pg(c), "SELECT set_config('myapp.session_id', 'leak', false)");
        tu_assert_ok(myappctx_run_in_context(c, &ctx, &s, 1, &res, &err), err);
        char want[96];
        snprintf(want, sizeof want, "%s,admin", other_role);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
        PQclear(res);
        tu_expect_value(c, "SELECT current_user::text", 0, NULL, "app_service");
    }
    tu_assert_ok(myappctx_begin_as_user(c, &user, NULL, NULL, &err), err);   /* no db role */
    tu_expect_value(c, "SELECT current_user::text", 0, NULL, "app_service");
    tu_assert_ok(myappctx_rollback(c, &err), err);
    ctx.db_role = "postgres";
    tu_expect_state(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_ESERVER, err,
                    "42501");
    ctx.db_role = "";
    tu_expect(myappctx_run_in_context(c, &ctx, &s, 1, NULL, &err), MYAPPCTX_EINVAL, err,
              "ctx->db_role");
    myappctx_conn_close(c);
}
END_TEST

/* Acquire, unit, release in one call. */
START_TEST(pool_run_in_context_is_the_common_case)
{
    myappctx_pool *pool = tu_pool_one();
    char id[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(&user, id) };
    myappctx_stmt inside = { INSIDE, 1, params };
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = &user;
    PGresult *res = (PGresult *)0x1;
    myappctx_error err;
    tu_assert_ok(myappctx_pool_run_in_context(pool, &ctx, &inside, 1, &res, -1, &err), err);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), CLEAN);
    PQclear(res);
    ck_assert_int_eq(tu_pool_stats(pool).in_use, 0);
    myappctx_stmt bad = { "SELECT 1/0", 0, NULL };
    res = (PGresult *)0x1;
    tu_expect_state(myappctx_pool_run_in_context(pool, &ctx, &bad, 1, &res, -1, &err),
                    MYAPPCTX_ESERVER, err, "22012");
    ck_assert_ptr_null(res);
    ck_assert_msg(strncmp(err.message, "myappctx_pool_run_in_context: ", 30) == 0, "%s",
                  err.message);
    ck_assert_int_eq(tu_pool_stats(pool).in_use, 0);
    myappctx_pool_close(pool);
    tu_expect(myappctx_pool_run_in_context(pool, &ctx, &inside, 1, &res, 100, &err),
              MYAPPCTX_ECLOSED, err, "myappctx_pool_run_in_context");
    myappctx_pool_free(pool);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("units");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plain_connection_units_start_clean);
    tcase_add_loop_test(tc, next_borrower_units_start_clean, 0, 2);
    tcase_add_test(tc, no_extra_round_trip_after_a_dirty_borrower);
    tcase_add_test(tc, other_calls_still_get_the_reset);
    tcase_add_loop_test(tc, impersonation_always_ends_in_the_log, 0,
                        (int)(sizeof leaving / sizeof leaving[0]));
    tcase_add_loop_test(tc, notifications_stay_with_their_borrower, 0, 2);
    tcase_add_test(tc, unit_survives_deallocate_all);
    tcase_add_test(tc, unit_refused_while_the_library_impersonates);
    tcase_add_test(tc, unit_runs_as_its_db_role);
    tcase_add_test(tc, pool_run_in_context_is_the_common_case);
    suite_add_tcase(s, tc);
    TCase *bouncer = tcase_create("through PgBouncer");
    tcase_set_timeout(bouncer, 60);
    tcase_add_unchecked_fixture(bouncer, bouncer_setup, bouncer_teardown);
    tcase_add_checked_fixture(bouncer, setup, teardown);
    tcase_add_loop_test(bouncer, next_borrower_units_start_clean, 2, 3);
    tcase_add_test(bouncer, bouncer_units_restore_application_name);
    suite_add_tcase(s, bouncer);
    return tu_run(s);
}
