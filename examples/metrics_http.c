/* Observability: a pool's statistics served to Prometheus over HTTP, and a
 * tracer that sees every unit of work.
 *
 * A worker thread runs units of work for two tenants through a pool; the
 * tracer counts them per tenant (where an application would start and end
 * a span tagged with the tenant).  The main thread serves
 * myappctx_pool_metrics_write()'s text -- db_client_connection_* in the
 * OpenTelemetry names -- at http://127.0.0.1:PORT/metrics with a few lines
 * of plain sockets (HTTP/1.0, loopback only), answers REQUESTS scrapes and
 * exits.  `make demo` starts it, scrapes it once with curl and checks the
 * answer (examples/run-examples.sh).
 *
 * Usage: metrics_http [conninfo [port [requests]]]
 *   conninfo  default "": the PG* environment
 *   port      default 0: any free port (printed as "serving http://...")
 *   requests  scrapes to answer before exiting (default 1); the program
 *             gives up after 60 s without one */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "context_examples.h"

#define ACME   "11111111-1111-1111-1111-111111111111"
#define GLOBEX "22222222-2222-2222-2222-222222222222"
#define BOB    "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

/* ---- the tracer: units per tenant ---------------------------------------- */

struct unit_counts {
    pthread_mutex_t mu;
    long acme, globex, failed;
};

static void
on_unit(void *userdata, const myappctx_trace_unit *ev)
{
    struct unit_counts *c = userdata;
    pthread_mutex_lock(&c->mu);
    if (ev->status != MYAPPCTX_OK)
        c->failed++;
    else if (ev->tenant_id != NULL && strcmp(ev->tenant_id, ACME) == 0)
        c->acme++;
    else
        c->globex++;
    pthread_mutex_unlock(&c->mu);
}

/* ---- the load: units until told to stop ---------------------------------- */

struct worker {
    myappctx_pool *pool;
    int stop;                    /* atomic */
    long units;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    myappctx_uuid bob, acme, globex;
    myappctx_uuid_parse(&bob, BOB, NULL);
    myappctx_uuid_parse(&acme, ACME, NULL);
    myappctx_uuid_parse(&globex, GLOBEX, NULL);
    myappctx_stmt st = { "SELECT current_setting('myapp.current_tenant_id')", 0, NULL };
    while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
        myappctx_conn *conn;
        myappctx_error err;
        ex_ok(myappctx_pool_acquire(w->pool, &conn, -1, &err), &err, "acquire");
        myappctx_txn_context ctx = MYAPPCTX_TXN_CONTEXT_INIT;
        ctx.user_id = &bob;
        ctx.tenant_id = w->units % 2 ? &globex : &acme;
        ex_ok(myappctx_run_in_context(conn, &ctx, &st, 1, NULL, &err), &err, "unit of work");
        myappctx_pool_release(w->pool, conn);
        w->units++;
        usleep(2000);
    }
    return NULL;
}

/* ---- HTTP/1.0 on 127.0.0.1 -------------------------------------------------- */

static int
listen_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ex_check(fd >= 0, "socket()");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ex_check(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0, "bind() to 127.0.0.1");
    ex_check(listen(fd, 8) == 0, "listen()");
    return fd;
}

static void
send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;              /* the client went away: nothing to do */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads the request head and answers it: the metrics for GET /metrics. */
static int
serve_one(int client, myappctx_pool *pool)
{
    char req[4096];
    size_t got = 0;
    req[0] = '\0';
    while (got < sizeof req - 1 && strstr(req, "\r\n\r\n") == NULL) {
        ssize_t n = recv(client, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
    }
    req[got] = '\0';
    int metrics = strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0;
    static char body[32768];
    size_t len = 0;
    char head[256];
    if (metrics) {
        myappctx_error err;
        ex_ok(myappctx_pool_metrics_write(pool, body, sizeof body, &len, "demo", &err), &err,
              "myappctx_pool_metrics_write()");
        snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\n"
                 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n\r\n", len);
    } else {
        len = (size_t)snprintf(body, sizeof body, "not found: try /metrics\n");
        snprintf(head, sizeof head, "HTTP/1.0 404 Not Found\r\n"
                 "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n", len);
    }
    send_all(client, head, strlen(head));
    send_all(client, body, len);
    return metrics;
}

int
main(int argc, char **argv)
{
    const char *conninfo = argc > 1 ? argv[1] : "";
    int port = argc > 2 ? atoi(argv[2]) : 0;
    int requests = argc > 3 ? atoi(argv[3]) : 1;

    struct unit_counts counts = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };
    myappctx_tracer tracer = MYAPPCTX_TRACER_INIT;
    tracer.userdata = &counts;
    tracer.on_unit = on_unit;

    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = conninfo;
    cfg.min_size = 2;
    cfg.max_size = 4;
    cfg.tracer = &tracer;              /* copied */
    cfg.leak_detection_ms = 10000;     /* nothing here holds one that long */
    myappctx_pool *pool = NULL;
    myappctx_error err;
    ex_ok(myappctx_pool_new(&pool, &cfg, &err), &err, "pool");
    ex_ok(myappctx_pool_wait_ready(pool, -1, &err), &err, "pool ready");

    struct worker w = { .pool = pool };
    pthread_t th;
    ex_check(pthread_create(&th, NULL, work, &w) == 0, "pthread_create()");

    int fd = listen_loopback(port);
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    printf("serving http://127.0.0.1:%d/metrics (%d scrape%s)\n", ntohs(bound.sin_port),
           requests, requests == 1 ? "" : "s");
    fflush(stdout);

    for (int served = 0; served < requests;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ex_check(poll(&p, 1, 60000) == 1, "a scrape within 60 s");
        int client = accept(fd, NULL, NULL);
        if (client < 0)
            continue;
        served += serve_one(client, pool);
        close(client);
    }
    close(fd);

    __atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    pthread_mutex_lock(&counts.mu);
    printf("units: %ld (tracer: acme %ld, globex %ld, failed %ld)\n", w.units, counts.acme,
           counts.globex, counts.failed);
    ex_check(counts.acme + counts.globex == w.units && counts.failed == 0,
             "the tracer saw every unit");
    pthread_mutex_unlock(&counts.mu);
    myappctx_pool_free(pool);
    return 0;
}
