/* The pool's statistics as Prometheus text (exposition format 0.0.4), with
 * the names of the OpenTelemetry semantic conventions for database client
 * connection metrics (db.client.connection.*), translated as the
 * OpenTelemetry-to-Prometheus rules do: dots become underscores, a duration
 * in seconds gets the _seconds suffix, a monotonic counter _total, and the
 * attributes become the labels pool_name and state.  One name the
 * conventions chose does not lint cleanly: promtool reports the gauge
 * db_client_connection_count for its "_count" suffix (reserved for
 * histograms and summaries); it is kept, because dashboards built on the
 * conventions look for it (tests/integration/test_pool_metrics.c accepts
 * exactly that one complaint).
 *
 * One snapshot is written, so the figures agree with each other.  No
 * floating point and no locale: seconds are written from integer
 * microseconds. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pool/pool.h"

#define POOL_NAME_MAX 128

struct out {
    char *buf;
    size_t size, len;
    char label[2 * POOL_NAME_MAX + 1];   /* pool_name, escaped */
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    if (o->len < o->size) {
        size_t room = o->size - o->len - 1;
        memcpy(o->buf + o->len, tmp, len < room ? len : room);
        o->buf[o->len + (len < room ? len : room)] = '\0';
    }
    o->len += len;
}

/* Microseconds as decimal seconds without trailing zeros: 10 -> 0.00001. */
static const char *
seconds(uint64_t us, char buf[32])
{
    snprintf(buf, 32, "%llu.%06llu", (unsigned long long)(us / 1000000u),
             (unsigned long long)(us % 1000000u));
    char *end = buf + strlen(buf) - 1;
    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
    return buf;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sample(struct out *o, const char *name, uint64_t value)
{
    put(o, "%s{pool_name=\"%s\"} %llu\n", name, o->label, (unsigned long long)value);
}

static void
histogram(struct out *o, const char *name, const char *help, const myappctx_pool_histogram *h)
{
    char b[32];
    family(o, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i < MYAPPCTX_POOL_HISTOGRAM_BUCKETS; i++) {
        cum += h->buckets[i];
        const char *le = i + 1 < MYAPPCTX_POOL_HISTOGRAM_BUCKETS
                             ? seconds(mxi_metrics_bounds_us[i], b) : "+Inf";
        put(o, "%s_bucket{pool_name=\"%s\",le=\"%s\"} %llu\n", name, o->label, le,
            (unsigned long long)cum);
    }
    put(o, "%s_sum{pool_name=\"%s\"} %s\n", name, o->label, seconds(h->sum_us, b));
    put(o, "%s_count{pool_name=\"%s\"} %llu\n", name, o->label, (unsigned long long)h->count);
}

/* Label values escape backslash, double quote and line feed. */
static void
escape(char *dst, const char *src)
{
    for (; *src != '\0'; src++) {
        if (*src == '\\' || *src == '"') {
            *dst++ = '\\';
            *dst++ = *src;
        } else if (*src == '\n') {
            *dst++ = '\\';
            *dst++ = 'n';
        } else {
            *dst++ = *src;
        }
    }
    *dst = '\0';
}

static void
write_all(struct out *o, const myappctx_pool_stats *st)
{
    static const struct { const char *name, *help; size_t offset; } counters[] = {
#define COUNTER(field, name, help) { name, help, offsetof(myappctx_pool_stats, field) }
        COUNTER(acquires, "myappctx_pool_acquires_total", "Successful acquires."),
        COUNTER(rejected, "myappctx_pool_rejected_total",
                "Acquires refused at once because max_waiters were waiting."),
        COUNTER(errors, "myappctx_pool_connect_errors_total",
                "Failed connects (libpq or the on_connect step)."),
        COUNTER(created, "myappctx_pool_connections_created_total", "Connections opened."),
        COUNTER(lost, "myappctx_pool_connections_lost_total",
                "Connections found broken or unresponsive."),
        COUNTER(discarded, "myappctx_pool_connections_discarded_total",
                "Connections closed because validation, a hook or the reset refused them, "
                "they were left unusable, or they were not the primary the pool wants."),
        COUNTER(evicted, "myappctx_pool_connections_evicted_total",
                "Connections closed as too old, idle too long or above max_size."),
        COUNTER(resets, "myappctx_pool_resets_total", "Returned connections that needed a reset."),
        COUNTER(leaks, "myappctx_pool_leaks_total",
                "Borrows held longer than leak_detection_ms."),
#undef COUNTER
    };

    family(o, "db_client_connection_count", "gauge",
           "The number of connections that are currently in state described by the state "
           "attribute.");
    put(o, "db_client_connection_count{pool_name=\"%s\",state=\"idle\"} %d\n", o->label,
        st->size - st->in_use);
    put(o, "db_client_connection_count{pool_name=\"%s\",state=\"used\"} %d\n", o->label,
        st->in_use);
    family(o, "db_client_connection_max", "gauge",
           "The maximum number of open connections allowed.");
    sample(o, "db_client_connection_max", (uint64_t)st->max_size);
    family(o, "db_client_connection_pending_requests", "gauge",
           "The number of current pending requests for an open connection.");
    sample(o, "db_client_connection_pending_requests", (uint64_t)st->waiting);
    family(o, "db_client_connection_timeouts_total", "counter",
           "The number of connection timeouts that have occurred trying to obtain a "
           "connection from the pool.");
    sample(o, "db_client_connection_timeouts_total", st->timeouts);
    histogram(o, "db_client_connection_wait_time_seconds",
              "The time it took to obtain an open connection from the pool.", &st->acquire_wait);
    histogram(o, "db_client_connection_use_time_seconds",
              "The time between borrowing a connection and returning it to the pool.",
              &st->use_time);
    histogram(o, "db_client_connection_create_time_seconds",
              "The time it took to create a new connection.", &st->create_time);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        family(o, counters[i].name, "counter", counters[i].help);
        sample(o, counters[i].name,
               *(const uint64_t *)((const char *)st + counters[i].offset));
    }
}

MYAPPCTX_API int
myappctx_pool_metrics_write(myappctx_pool *pool, char *buf, size_t size, size_t *out_len,
                            const char *pool_name, myappctx_error *err)
{
    const char *what = __func__;
    if (out_len != NULL)
        *out_len = 0;
    MXI_ERROR_REQUIRE_ARG(err, pool);
    MXI_ERROR_REQUIRE_ARG(err, pool_name);
    if (buf == NULL && size > 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument 'buf' is NULL but 'size' is %zu", what, size);
    if (pool_name[0] == '\0')
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'pool_name' is empty", what);
    int rc = mxi_text_check(pool_name, POOL_NAME_MAX, false, "pool_name", what, err);
    if (rc != MYAPPCTX_OK)
        return rc;

    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    if (myappctx_pool_stats_get(pool, &st) != MYAPPCTX_OK)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: cannot read the pool's stats", what);
    struct out o = { .buf = buf, .size = size, .len = 0 };
    escape(o.label, pool_name);
    if (size > 0)
        buf[0] = '\0';
    write_all(&o, &st);
    if (out_len != NULL)
        *out_len = o.len;
    if (o.len >= size)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: the text needs %zu bytes and the NUL, 'size' is %zu",
                             what, o.len, size);
    return MYAPPCTX_OK;
}
