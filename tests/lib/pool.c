/* Pools for tests, backends and "eventually" (see testutil.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

myappctx_pool_config
tu_pool_config(const char *conninfo, int min_size, int max_size)
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
    cfg.allow_privileged = tu_conninfo_is_superuser(conninfo);
    /* Sealed mode (tu_sealed()): pools of app_service carry the key. */
    if (tu_sealed() && conninfo != NULL && strstr(conninfo, "user=app_service") != NULL)
        cfg.seal_key = tu_seal_key(&cfg.seal_key_len);
    return cfg;
}

myappctx_pool *
tu_pool_new(const myappctx_pool_config *cfg)
{
    myappctx_pool *pool = NULL;
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_pool_new(&pool, cfg, &err), err);
    ck_assert_ptr_nonnull(pool);
    return pool;
}

myappctx_pool *
tu_pool_start(const myappctx_pool_config *cfg)
{
    myappctx_pool *pool = tu_pool_new(cfg);
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_pool_wait_ready(pool, 20000, &err), err);
    return pool;
}

myappctx_pool *
tu_pool_one(void)
{
    myappctx_pool_config cfg = tu_pool_config(TU_APP_CONNINFO, 1, 1);
    return tu_pool_start(&cfg);
}

myappctx_conn *
tu_pool_acquire(myappctx_pool *pool)
{
    myappctx_conn *conn = NULL;
    myappctx_error err = { 0 };
    tu_assert_ok(myappctx_pool_acquire(pool, &conn, 20000, &err), err);
    ck_assert_ptr_nonnull(conn);
    return conn;
}

myappctx_pool_stats
tu_pool_stats(myappctx_pool *pool)
{
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    ck_assert_int_eq(myappctx_pool_stats_get(pool, &st), MYAPPCTX_OK);
    return st;
}

int
tu_backend_pid(myappctx_conn *c)
{
    return PQbackendPID(myappctx_conn_pg(c));
}

static long long
count_backends(myappctx_conn *su, int pid)
{
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = { p };
    return tu_int(su, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", 1, params);
}

int
tu_backend_alive(int pid)
{
    myappctx_conn *su = tu_connect();
    long long n = count_backends(su, pid);
    myappctx_conn_close(su);
    return n > 0;
}

void
tu_kill_backend(int pid)
{
    myappctx_conn *su = tu_connect();
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = { p };
    tu_exec(su, "SELECT pg_terminate_backend($1::int)", 1, params);
    TU_EVENTUALLY(count_backends(su, pid) == 0, 10000, "terminated backend gone");
    myappctx_conn_close(su);
}
