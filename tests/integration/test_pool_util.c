#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "test_pool_util.h"

myappctx_pool_config
tp_config(const char *conninfo, int min_size, int max_size)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = conninfo;
    cfg.min_size = min_size;
    cfg.max_size = max_size;
    cfg.acquire_timeout_ms = 10000;
    cfg.health_check_period_ms = 0;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_NONE;
    cfg.reconnect_min_ms = 5;
    cfg.reconnect_max_ms = 50;
    return cfg;
}

myappctx_pool *
tp_new(const myappctx_pool_config *cfg)
{
    myappctx_pool *pool = NULL;
    myappctx_error err;
    int rc = myappctx_pool_new(&pool, cfg, &err);
    tu_assert_ok(rc, err);
    ck_assert_ptr_nonnull(pool);
    return pool;
}

myappctx_conn *
tp_acquire(myappctx_pool *pool)
{
    myappctx_conn *conn = NULL;
    myappctx_error err;
    int rc = myappctx_pool_acquire(pool, &conn, 20000, &err);
    tu_assert_ok(rc, err);
    ck_assert_ptr_nonnull(conn);
    return conn;
}

myappctx_pool_stats
tp_stats(myappctx_pool *pool)
{
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ck_assert_int_eq(myappctx_pool_stats_get(pool, &st), MYAPPCTX_OK);
    return st;
}

char *
tp_value(myappctx_conn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res;
    myappctx_error err;
    int rc = myappctx_exec(conn, sql, nparams, params, &res, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s", sql, err.message);
    ck_assert_int_eq(PQntuples(res), 1);
    char *v = PQgetisnull(res, 0, 0) ? NULL : strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

void
tp_expect(myappctx_conn *conn, const char *sql, int nparams, const char *const *params,
          const char *expected)
{
    char *v = tp_value(conn, sql, nparams, params);
    if (expected == NULL)
        ck_assert_msg(v == NULL, "%s: expected NULL, got '%s'", sql, v);
    else
        ck_assert_msg(v != NULL && strcmp(v, expected) == 0, "%s: expected '%s', got '%s'",
                      sql, expected, v ? v : "(null)");
    free(v);
}

void
tp_exec(myappctx_conn *conn, const char *sql, int nparams, const char *const *params)
{
    myappctx_error err;
    int rc = myappctx_exec(conn, sql, nparams, params, NULL, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s", sql, err.message);
}

int
tp_pid(myappctx_conn *conn)
{
    return PQbackendPID(myappctx_conn_pg(conn));
}

static int
count_backends(myappctx_conn *su, int pid)
{
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = { p };
    char *v = tp_value(su, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", 1, params);
    int n = atoi(v);
    free(v);
    return n;
}

int
tp_backend_alive(int pid)
{
    myappctx_conn *su = tu_connect();
    int n = count_backends(su, pid);
    myappctx_conn_close(su);
    return n > 0;
}

void
tp_kill(int pid)
{
    myappctx_conn *su = tu_connect();
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = { p };
    tp_exec(su, "SELECT pg_terminate_backend($1::int)", 1, params);
    TP_EVENTUALLY(count_backends(su, pid) == 0, 10000, "terminated backend gone");
    myappctx_conn_close(su);
}

void
tp_uuid(char buf[MYAPPCTX_UUID_BUFSIZE])
{
    myappctx_uuid u;
    ck_assert_int_eq(getrandom(u.bytes, sizeof u.bytes, 0), (ssize_t)sizeof u.bytes);
    u.bytes[6] = (unsigned char)((u.bytes[6] & 0x0f) | 0x40);
    u.bytes[8] = (unsigned char)((u.bytes[8] & 0x3f) | 0x80);
    myappctx_uuid_format(&u, buf);
}

void
tp_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}
