/* The library's side of `make bench` (tests/bench/run-bench.sh drives it).
 *
 *   bench_fastpath fastpath   SECONDS CLIENTS CONNINFO TXN_POOLER [STATEMENTS]
 *   bench_fastpath roundtrips SECONDS CLIENTS CONNINFO TXN_POOLER [STATEMENTS]
 *       CLIENTS threads over a pool of CLIENTS connections, each looping
 *       acquire -> unit of work -> release until SECONDS have passed.  The
 *       unit: set user and tenant transaction-locally, read them back with
 *       current_setting() STATEMENTS times (default 1, at most
 *       MYAPPCTX_PIPELINE_MAX_STMTS), commit -- in one round trip
 *       (myappctx_run_in_context with STATEMENTS statements) or as the
 *       idiomatic pooled transaction: myappctx_begin_as_user (BEGIN, set),
 *       STATEMENTS myappctx_exec calls, myappctx_commit -- STATEMENTS + 3
 *       round trips.
 *       Prints: tps=.. mean_us=.. p99_us=.. n=.. errors=.. resets=..
 *       (tps counts units, not statements)
 *   bench_fastpath fastpath-unpooled SECONDS CLIENTS CONNINFO 0 [STATEMENTS]
 *       the fast path with one connection per thread and no pool, to tell
 *       the pool's share of case c from the pipeline's.
 *   bench_fastpath poolmicro CONNINFO
 *       acquire+release with no server work: one thread on a one-connection
 *       pool (pool_pair_ns), then 16 threads on 4 connections (wait p50/p99).
 *   bench_fastpath memory CONNINFO N
 *       heap bytes per pooled connection beyond libpq's own (mallinfo2).
 *
 * BENCH_TRACER=1 in the environment gives every pool (and, unpooled, every
 * connection) a trivial tracer -- each callback one relaxed atomic
 * increment -- to measure what the tracer hooks cost when set; the load
 * modes then print tracer_events=N at the end of their line.
 *
 * With MYAPPCTX_BENCH_SEAL_KEY_FILE set (the hex key file of a server that
 * preloads myappctx_seal), every pool and connection is sealed
 * (myappctx/seal.h): the sealed rows of make bench.
 */
#include "config.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "myappctx.h"

static const char *const USER_ID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
static const char *const TENANT_ID = "11111111-1111-1111-1111-111111111111";
static const char READ_BACK[] =
    "SELECT current_setting('myapp.current_user_id'), current_setting('myapp.current_tenant_id')";

/* Sealed mode: the key of MYAPPCTX_BENCH_SEAL_KEY_FILE (seal_key_len 0: none). */
static unsigned char seal_key[MYAPPCTX_SEAL_KEY_MAX];
static size_t seal_key_len;

static void
load_seal_key(void)
{
    const char *path = getenv("MYAPPCTX_BENCH_SEAL_KEY_FILE");
    if (path == NULL || *path == '\0')
        return;
    char hex[512];
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(hex, 1, sizeof hex - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    hex[n] = '\0';
    myappctx_error err;
    if (myappctx_seal_key_from_hex(seal_key, &seal_key_len, hex, &err) != MYAPPCTX_OK) {
        fprintf(stderr, "bench: %s: %s\n", path, err.message);
        exit(1);
    }
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct samples {
    uint64_t *v;
    size_t n, cap;
};

static void
push(struct samples *s, uint64_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (s->v == NULL) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
    }
    s->v[s->n++] = x;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t
percentile(struct samples *s, double p)
{
    if (s->n == 0)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_u64);
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

static void
merge(struct samples *into, struct samples *from)
{
    for (size_t i = 0; i < from->n; i++)
        push(into, from->v[i]);
    free(from->v);
}

/* The trivial tracer of BENCH_TRACER=1: it only counts. */
static uint64_t tracer_events;

static void count_connect(void *u, const myappctx_trace_connect *e) { (void)u; (void)e; __atomic_fetch_add(&tracer_events, 1, __ATOMIC_RELAXED); }
static void count_acquire(void *u, const myappctx_trace_acquire *e) { (void)u; (void)e; __atomic_fetch_add(&tracer_events, 1, __ATOMIC_RELAXED); }
static void count_release(void *u, const myappctx_trace_release *e) { (void)u; (void)e; __atomic_fetch_add(&tracer_events, 1, __ATOMIC_RELAXED); }
static void count_unit(void *u, const myappctx_trace_unit *e) { (void)u; (void)e; __atomic_fetch_add(&tracer_events, 1, __ATOMIC_RELAXED); }
static void count_evict(void *u, const myappctx_trace_evict *e) { (void)u; (void)e; __atomic_fetch_add(&tracer_events, 1, __ATOMIC_RELAXED); }
static void count_notice(void *u, const myappctx_trace_notice *e) { (void)u; (void)e; __atomic_fetch_add(&tracer_events, 1, __ATOMIC_RELAXED); }

static const myappctx_tracer counting_tracer = {
    MYAPPCTX_TRACER_VERSION, NULL, count_connect, count_acquire, count_release, count_unit,
    NULL, count_evict, count_notice, NULL
};

static const myappctx_tracer *
bench_tracer(void)
{
    const char *v = getenv("BENCH_TRACER");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0 ? &counting_tracer : NULL;
}

static myappctx_pool *
make_pool(const char *conninfo, int size, int txn_pooler)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    myappctx_pool *pool;
    myappctx_error err;
    cfg.tracer = bench_tracer();
    cfg.conninfo = conninfo;
    cfg.min_size = size;
    cfg.max_size = size;
    cfg.txn_pooler = txn_pooler;
    cfg.init_connection = 0;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_NONE;
    if (seal_key_len > 0) {
        cfg.seal_key = seal_key;
        cfg.seal_key_len = seal_key_len;
    }
    if (myappctx_pool_new(&pool, &cfg, &err) != MYAPPCTX_OK ||
        myappctx_pool_wait_ready(pool, 30000, &err) != MYAPPCTX_OK) {
        fprintf(stderr, "bench: pool: %s\n", err.message);
        exit(1);
    }
    return pool;
}

struct worker {
    pthread_t thread;
    myappctx_pool *pool;             /* NULL: the worker has its own connection */
    const char *conninfo;
    int fastpath;
    int nstmts;                      /* read-back statements per unit */
    const myappctx_stmt *stmts;      /* nstmts copies of READ_BACK (fast path) */
    PGresult **results;              /* nstmts slots (fast path) */
    uint64_t deadline;
    struct samples lat;
    unsigned long errors;
    char last_error[MYAPPCTX_ERROR_MESSAGE_SIZE];
};

/* The read-back must see the unit's own user. */
static int
check_read_back(const PGresult *res, myappctx_error *err)
{
    if (strcmp(PQgetvalue(res, 0, 0), USER_ID) == 0)
        return MYAPPCTX_OK;
    if (err != NULL)
        snprintf(err->message, sizeof err->message, "read back '%s', not the unit's user",
                 PQgetvalue(res, 0, 0));
    return MYAPPCTX_EPROTO;
}

static int
unit_fastpath(const struct worker *w, myappctx_conn *conn, const myappctx_uuid *user,
              const myappctx_uuid *tenant, myappctx_error *err)
{
    myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
    ctx.user_id = user;
    ctx.tenant_id = tenant;
    int rc = myappctx_run_in_context(conn, &ctx, w->stmts, (size_t)w->nstmts, w->results, err);
    if (rc == MYAPPCTX_OK)
        for (int i = 0; i < w->nstmts && rc == MYAPPCTX_OK; i++)
            rc = check_read_back(w->results[i], err);
    myappctx_results_free(w->results, (size_t)w->nstmts);
    return rc;
}

/* The idiomatic pooled transaction: BEGIN and set (myappctx_begin_as_user),
 * the statements one by one, COMMIT. */
static int
unit_roundtrips(const struct worker *w, myappctx_conn *conn, const myappctx_uuid *user,
                const myappctx_uuid *tenant, myappctx_error *err)
{
    int rc = myappctx_begin_as_user(conn, user, tenant, NULL, err);  /* BEGIN, then set */
    if (rc != MYAPPCTX_OK)
        return rc;
    for (int i = 0; i < w->nstmts && rc == MYAPPCTX_OK; i++) {
        PGresult *res;
        rc = myappctx_exec(conn, READ_BACK, 0, NULL, &res, err);
        if (rc == MYAPPCTX_OK) {
            rc = check_read_back(res, err);
            PQclear(res);
        }
    }
    if (rc == MYAPPCTX_OK)
        return myappctx_commit(conn, err);
    myappctx_rollback(conn, NULL);
    return rc;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    myappctx_uuid user, tenant;
    myappctx_uuid_parse(&user, USER_ID, NULL);
    myappctx_uuid_parse(&tenant, TENANT_ID, NULL);
    myappctx_conn *own = NULL;
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    if (seal_key_len > 0) {
        opts.seal_key = seal_key;
        opts.seal_key_len = seal_key_len;
    }
    if (w->pool == NULL && (myappctx_conn_open(&own, w->conninfo, &opts, NULL) != MYAPPCTX_OK ||
                            myappctx_conn_set_tracer(own, bench_tracer(), NULL) != MYAPPCTX_OK)) {
        w->errors++;
        return NULL;
    }
    while (now_ns() < w->deadline) {
        uint64_t t0 = now_ns();
        myappctx_conn *conn = own;
        myappctx_error err;
        int rc = own ? MYAPPCTX_OK : myappctx_pool_acquire(w->pool, &conn, 10000, &err);
        if (rc == MYAPPCTX_OK) {
            rc = w->fastpath ? unit_fastpath(w, conn, &user, &tenant, &err)
                             : unit_roundtrips(w, conn, &user, &tenant, &err);
            if (own == NULL)
                myappctx_pool_release(w->pool, conn);
        }
        if (rc != MYAPPCTX_OK) {
            w->errors++;
            snprintf(w->last_error, sizeof w->last_error, "%s", err.message);
            continue;
        }
        push(&w->lat, now_ns() - t0);
    }
    myappctx_conn_close(own);
    return NULL;
}

static int
run_load(int fastpath, int pooled, double seconds, int clients, const char *conninfo,
         int txn_pooler, int nstmts)
{
    if (clients < 1 || seconds <= 0 || nstmts < 1 || nstmts > MYAPPCTX_PIPELINE_MAX_STMTS) {
        fprintf(stderr, "bench: need SECONDS > 0, CLIENTS >= 1 and 1 <= STATEMENTS <= %d\n",
                MYAPPCTX_PIPELINE_MAX_STMTS);
        return 2;
    }
    myappctx_pool *pool = pooled ? make_pool(conninfo, clients, txn_pooler) : NULL;
    struct worker *w = calloc((size_t)clients, sizeof *w);
    /* Shared and read-only: the statements; one results array per worker. */
    myappctx_stmt *stmts = calloc((size_t)nstmts, sizeof *stmts);
    PGresult **results = calloc((size_t)clients * (size_t)nstmts, sizeof *results);
    if (w == NULL || stmts == NULL || results == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < nstmts; i++)
        stmts[i] = (myappctx_stmt){ READ_BACK, 0, NULL };
    struct samples all = { 0 };
    unsigned long errors = 0;
    uint64_t start = now_ns();
    uint64_t deadline = start + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < clients; i++) {
        w[i].pool = pool;
        w[i].conninfo = conninfo;
        w[i].fastpath = fastpath;
        w[i].nstmts = nstmts;
        w[i].stmts = stmts;
        w[i].results = results + (size_t)i * (size_t)nstmts;
        w[i].deadline = deadline;
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < clients; i++) {
        pthread_join(w[i].thread, NULL);
        errors += w[i].errors;
        if (w[i].errors)
            fprintf(stderr, "bench: %lu errors, last: %s\n", w[i].errors, w[i].last_error);
        merge(&all, &w[i].lat);
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    double sum = 0;
    for (size_t i = 0; i < all.n; i++)
        sum += (double)all.v[i];
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    if (pool != NULL)
        myappctx_pool_stats_get(pool, &st);
    printf("tps=%.1f mean_us=%.1f p99_us=%.1f n=%zu errors=%lu resets=%llu",
           (double)all.n / elapsed, all.n ? sum / (double)all.n / 1000.0 : 0.0,
           (double)percentile(&all, 0.99) / 1000.0, all.n, errors,
           (unsigned long long)st.resets);
    if (bench_tracer() != NULL)
        printf(" tracer_events=%llu",
               (unsigned long long)__atomic_load_n(&tracer_events, __ATOMIC_RELAXED));
    printf("\n");
    free(all.v);
    free(w);
    free(stmts);
    free(results);
    myappctx_pool_free(pool);
    return errors ? 1 : 0;
}

struct micro {
    pthread_t thread;
    myappctx_pool *pool;
    int iterations;
    struct samples wait;
};

static void *
micro_main(void *arg)
{
    struct micro *m = arg;
    for (int i = 0; i < m->iterations; i++) {
        myappctx_conn *conn;
        uint64_t t0 = now_ns();
        if (myappctx_pool_acquire(m->pool, &conn, 10000, NULL) != MYAPPCTX_OK)
            continue;
        push(&m->wait, now_ns() - t0);
        myappctx_pool_release(m->pool, conn);
    }
    return NULL;
}

static int
run_poolmicro(const char *conninfo)
{
    /* Uncontended: one thread, one connection, no server work. */
    myappctx_pool *pool = make_pool(conninfo, 1, 0);
    enum { PAIRS = 2000000 };
    for (int i = 0; i < 10000; i++) {   /* warm up */
        myappctx_conn *c;
        myappctx_pool_acquire(pool, &c, 1000, NULL);
        myappctx_pool_release(pool, c);
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < PAIRS; i++) {
        myappctx_conn *c;
        if (myappctx_pool_acquire(pool, &c, 1000, NULL) != MYAPPCTX_OK) {
            fprintf(stderr, "bench: uncontended acquire failed\n");
            return 1;
        }
        myappctx_pool_release(pool, c);
    }
    double pair_ns = (double)(now_ns() - t0) / PAIRS;
    myappctx_pool_free(pool);

    /* Contended: 16 threads on 4 connections. */
    enum { THREADS = 16, ITER = 20000 };
    pool = make_pool(conninfo, 4, 0);
    struct micro m[THREADS];
    struct samples all = { 0 };
    memset(m, 0, sizeof m);
    for (int i = 0; i < THREADS; i++) {
        m[i].pool = pool;
        m[i].iterations = ITER;
        pthread_create(&m[i].thread, NULL, micro_main, &m[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(m[i].thread, NULL);
        merge(&all, &m[i].wait);
    }
    myappctx_pool_free(pool);
    if (bench_tracer() != NULL)
        printf("tracer=on\n");
    printf("pool_pair_ns=%.0f\n", pair_ns);
    printf("contended_wait_p50_ns=%llu\n", (unsigned long long)percentile(&all, 0.50));
    printf("contended_wait_p99_ns=%llu\n", (unsigned long long)percentile(&all, 0.99));
    printf("contended_acquires=%zu\n", all.n);
    free(all.v);
    return all.n == (size_t)THREADS * ITER ? 0 : 1;
}

static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static int
run_memory(const char *conninfo, int n)
{
    /* mallinfo2() sees the main arena only: keep the pool's thread there. */
    mallopt(M_ARENA_MAX, 1);
    PGconn **raw = calloc((size_t)n, sizeof *raw);
    size_t h0 = heap_in_use();
    for (int i = 0; i < n; i++) {
        raw[i] = PQconnectdb(conninfo);
        if (PQstatus(raw[i]) != CONNECTION_OK) {
            fprintf(stderr, "bench: %s", PQerrorMessage(raw[i]));
            return 1;
        }
    }
    size_t libpq_bytes = heap_in_use() - h0;
    for (int i = 0; i < n; i++)
        PQfinish(raw[i]);
    free(raw);

    size_t h1 = heap_in_use();
    myappctx_pool *pool = make_pool(conninfo, n, 0);
    size_t pool_bytes = heap_in_use() - h1;
    myappctx_pool_free(pool);
    long per_conn = ((long)pool_bytes - (long)libpq_bytes) / n;
    printf("libpq_bytes_per_conn=%zu\n", libpq_bytes / (size_t)n);
    printf("pool_bytes_per_conn=%zu\n", pool_bytes / (size_t)n);
    printf("bytes_per_pooled_conn_beyond_libpq=%ld\n", per_conn);
    return 0;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    load_seal_key();
    if ((argc == 6 || argc == 7) &&
        (strcmp(argv[1], "fastpath") == 0 || strcmp(argv[1], "roundtrips") == 0 ||
         strcmp(argv[1], "fastpath-unpooled") == 0))
        return run_load(strcmp(argv[1], "roundtrips") != 0,
                        strcmp(argv[1], "fastpath-unpooled") != 0, atof(argv[2]),
                        atoi(argv[3]), argv[4], atoi(argv[5]), argc == 7 ? atoi(argv[6]) : 1);
    if (argc == 3 && strcmp(argv[1], "poolmicro") == 0)
        return run_poolmicro(argv[2]);
    if (argc == 4 && strcmp(argv[1], "memory") == 0)
        return run_memory(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: bench_fastpath fastpath|roundtrips|fastpath-unpooled SECONDS CLIENTS CONNINFO TXN_POOLER [STATEMENTS]\n"
                    "       bench_fastpath poolmicro CONNINFO\n"
                    "       bench_fastpath memory CONNINFO N\n");
    return 2;
}
