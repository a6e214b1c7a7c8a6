/* Helpers shared by the stress and failover programs (see stress_util.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress_util.h"

extern char **environ;

/* ------------------------------------------------------------------ time */

double
su_ns_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

double
su_ns_s(uint64_t ns)
{
    return (double)ns / 1e9;
}

void
su_atomic_min(uint64_t *slot, uint64_t value)
{
    uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
    while ((cur == 0 || value < cur) &&
           !__atomic_compare_exchange_n(slot, &cur, value, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

void
su_atomic_max(uint64_t *slot, uint64_t value)
{
    uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
    while (value > cur &&
           !__atomic_compare_exchange_n(slot, &cur, value, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

uint64_t
su_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

unsigned
su_rand_below(uint64_t *state, unsigned n)
{
    return (unsigned)((su_rand(state) >> 33) % n);
}

/* ------------------------------------------------------ figures, failures */

void
su_figure(const char *name, const char *fmt, ...)
{
    char value[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    printf("%s=%s\n", name, value);
    fflush(stdout);
}

enum { MAX_KINDS = 32, PRINT_PER_KIND = 5 };

static pthread_mutex_t violation_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const char *kind;           /* string literals only */
    unsigned long count;
} violations[MAX_KINDS];

void
su_violation(const char *kind, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&violation_mu);
    int i = 0;
    while (i < MAX_KINDS && violations[i].kind != NULL && strcmp(violations[i].kind, kind) != 0)
        i++;
    if (i == MAX_KINDS)
        i = MAX_KINDS - 1;      /* never reached: the programs use a handful of kinds */
    if (violations[i].kind == NULL)
        violations[i].kind = kind;
    unsigned long n = ++violations[i].count;
    if (n <= PRINT_PER_KIND)
        fprintf(stderr, "VIOLATION %s: %s\n", kind, msg);
    else if (n == PRINT_PER_KIND + 1)
        fprintf(stderr, "VIOLATION %s: (further ones counted, not printed)\n", kind);
    pthread_mutex_unlock(&violation_mu);
}

unsigned long
su_violations(const char *kind)
{
    unsigned long n = 0;
    pthread_mutex_lock(&violation_mu);
    for (int i = 0; i < MAX_KINDS && violations[i].kind != NULL; i++)
        if (kind == NULL || *kind == '\0' || strcmp(violations[i].kind, kind) == 0)
            n += violations[i].count;
    pthread_mutex_unlock(&violation_mu);
    return n;
}

unsigned long
su_leaks(void)
{
    return su_violations("leak_acquire") + su_violations("leak_rls") +
           su_violations("leak_identity");
}

void
su_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stress: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stdout);
    exit(2);
}

int
su_shell(const char *cmd)
{
    char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *
su_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        su_die("environment variable %s is not set (run through run-stress.sh / run-failover.sh)",
               name);
    return v;
}

double
su_env_num(const char *name, double dflt)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return dflt;
    char *end;
    double d = strtod(v, &end);
    if (*end != '\0' || d < 0)
        su_die("%s=%s is not a non-negative number", name, v);
    return d;
}

/* ------------------------------------------------------------- watchdog */

void
su_beat(struct su_beat *b)
{
    __atomic_store_n(&b->progress_ns, tu_now_ns(), __ATOMIC_RELAXED);
}

void
su_beat_done(struct su_beat *b)
{
    __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
}

static int
all_done(struct su_beat *beats, int n)
{
    for (int i = 0; i < n; i++)
        if (!__atomic_load_n(&beats[i].done, __ATOMIC_ACQUIRE))
            return 0;
    return 1;
}

void
su_watch_until(struct su_beat *beats, int n, uint64_t until, long hang_ms)
{
    for (;;) {
        uint64_t now = tu_now_ns();
        for (int i = 0; i < n; i++) {
            uint64_t last = __atomic_load_n(&beats[i].progress_ns, __ATOMIC_RELAXED);
            if (!__atomic_load_n(&beats[i].done, __ATOMIC_ACQUIRE) && now > last &&
                now - last > (uint64_t)hang_ms * 1000000u) {
                su_violation("hang", "worker %d made no progress for %.0f s", i + 1,
                             su_ns_s(now - last));
                su_figure("hangs", "1");
                printf("summary: aborted, a worker hung leaks=%lu violations=%lu\n",
                       su_leaks(), su_violations(NULL));
                fflush(stdout);
                fflush(stderr);
                _exit(3);
            }
        }
        if (now >= until)
            return;
        uint64_t left_ms = (until - now) / 1000000u;
        tu_sleep_ms(left_ms < 100 ? (long)left_ms + 1 : 100);
    }
}

void
su_watch_done(struct su_beat *beats, int n, long hang_ms)
{
    while (!all_done(beats, n))
        su_watch_until(beats, n, tu_now_ns() + 20000000u, hang_ms);
}

/* ------------------------------------------------------------- the world */

const char *const su_role_names[SU_NROLES] = { NULL, "user", "editor", "admin" };

myappctx_conn *
su_connect(const char *conninfo)
{
    myappctx_conn *c;
    myappctx_error err;
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.allow_privileged = 1;     /* the superuser's setup and checks, by design */
    if (myappctx_conn_open(&c, conninfo, &opts, &err) != MYAPPCTX_OK)
        su_die("cannot connect (%s): %s", *conninfo ? conninfo : "PG* environment", err.message);
    return c;
}

static void
must_exec(myappctx_conn *c, const char *sql, int n, const char *const *p)
{
    myappctx_error err;
    if (myappctx_exec(c, sql, n, p, NULL, &err) != MYAPPCTX_OK)
        su_die("setup: %s: %s", sql, err.message);
}

static void
random_uuid(uint64_t *rng, myappctx_uuid *id, char text[MYAPPCTX_UUID_BUFSIZE])
{
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = su_rand(rng);
        memcpy(id->bytes + i, &r, 8);
    }
    tu_uuid_make_v4(id);
    myappctx_uuid_format(id, text);
}

void
su_seed(myappctx_conn *su, struct su_world *w, uint64_t *rng)
{
    memset(w, 0, sizeof *w);
    for (int t = 0; t < SU_TENANTS; t++)
        random_uuid(rng, &w->tenant[t], w->tenant_text[t]);

    must_exec(su, "BEGIN", 0, NULL);
    must_exec(su, "TRUNCATE data.stress_events", 0, NULL);
    must_exec(su, "DELETE FROM data.users WHERE email LIKE 'stress-%@example.com'", 0, NULL);
    for (int u = 0; u < SU_USERS; u++) {
        struct su_user *user = &w->user[u];
        static const int role_by_rank[SU_USERS_PER_TENANT] = {
            SU_ROLE_ADMIN, SU_ROLE_USER, SU_ROLE_USER, SU_ROLE_NONE
        };
        int home = u / SU_USERS_PER_TENANT;
        random_uuid(rng, &user->id, user->text);
        user->db_role = role_by_rank[u % SU_USERS_PER_TENANT];
        user->tenants[user->ntenants++] = home;
        if (u % SU_USERS_PER_TENANT == 1)
            user->tenants[user->ntenants++] = (home + 1) % SU_TENANTS;

        char email[64];
        snprintf(email, sizeof email, "stress-%d@example.com", u);
        const char *p[] = { user->text, email, su_role_names[user->db_role] };
        must_exec(su, "INSERT INTO data.users (id, email, name, role)"
                      " VALUES ($1::uuid, $2, 'Stress ' || $2, $3)", 3, p);
        for (int i = 0; i < user->ntenants; i++) {
            const char *m[] = { user->text, w->tenant_text[user->tenants[i]] };
            must_exec(su, "INSERT INTO data.user_tenants (user_id, tenant_id, is_active)"
                          " VALUES ($1::uuid, $2::uuid, true)", 2, m);
        }
    }
    must_exec(su, "COMMIT", 0, NULL);
}

/* ----------------------------------------------------------------- pool */

myappctx_pool_config
su_pool_config(const char *conninfo, int max_size, long acquire_timeout_ms,
               long reconnect_max_ms)
{
    myappctx_pool_config cfg = MYAPPCTX_POOL_CONFIG_INIT;
    cfg.conninfo = conninfo;
    cfg.min_size = max_size / 2 > 0 ? max_size / 2 : 1;
    cfg.max_size = max_size;
    cfg.acquire_timeout_ms = acquire_timeout_ms;
    cfg.max_lifetime_ms = 20000;        /* connections are replaced during the run */
    cfg.max_lifetime_jitter = 0.5;
    cfg.max_idle_ms = 5000;
    cfg.health_check_period_ms = 1000;
    cfg.validation = MYAPPCTX_POOL_VALIDATE_PING;
    cfg.validate_idle_ms = 250;
    cfg.reconnect_min_ms = 20;
    cfg.reconnect_max_ms = reconnect_max_ms;
    return cfg;
}

myappctx_pool *
su_pool_start(const myappctx_pool_config *cfg)
{
    myappctx_pool *pool;
    myappctx_error err;
    if (myappctx_pool_new(&pool, cfg, &err) != MYAPPCTX_OK)
        su_die("pool: %s", err.message);
    if (myappctx_pool_wait_ready(pool, 30000, &err) != MYAPPCTX_OK)
        su_die("pool not ready: %s", err.message);
    return pool;
}

void
su_pool_figures(myappctx_pool *pool, const char *prefix)
{
    myappctx_pool_stats st = MYAPPCTX_POOL_STATS_INIT;
    if (myappctx_pool_stats_get(pool, &st) != MYAPPCTX_OK)
        return;
    const struct { const char *name; uint64_t v; } f[] = {
        { "acquires", st.acquires }, { "timeouts", st.timeouts },
        { "created", st.created }, { "lost", st.lost }, { "discarded", st.discarded },
        { "evicted", st.evicted }, { "connect_errors", st.errors }, { "resets", st.resets },
    };
    char name[64];
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        snprintf(name, sizeof name, "%s_%s", prefix, f[i].name);
        su_figure(name, "%llu", (unsigned long long)f[i].v);
    }
    snprintf(name, sizeof name, "%s_acquire_wait_max_ms", prefix);
    su_figure(name, "%.1f", (double)st.acquire_wait_max_us / 1000.0);
}

/* ------------------------------------------------------------ unit checks */

const char SU_INSERT_SQL[] =
    "INSERT INTO data.stress_events (token, tenant_id, worker, kind)"
    " VALUES ($1::bigint, $2::uuid, $3::int, $4::text)";

const char SU_VISIBLE_SQL[] =
    "SELECT (SELECT count(*) FROM (SELECT e.tenant_id FROM data.stress_events AS e"
    "                              ORDER BY e.token DESC LIMIT 50) AS r"
    "        WHERE r.tenant_id IS DISTINCT FROM $1::uuid),"
    "       (SELECT count(*) FROM data.stress_events AS e"
    "        WHERE e.worker = $2::int AND e.tenant_id IS DISTINCT FROM $1::uuid),"
    "       (SELECT count(*) FROM data.stress_events AS e"
    "        WHERE e.worker = $2::int AND e.tenant_id = $1::uuid),"
    "       private.verify_user_tenant_access()";

int
su_check_visible(const PGresult *res, long min_own, const char *what)
{
    if (res == NULL || PQntuples(res) != 1 || PQnfields(res) != 4) {
        su_violation("unexpected", "%s: visibility check returned no row", what);
        return 0;
    }
    long other_recent = atol(PQgetvalue(res, 0, 0));
    long mine_elsewhere = atol(PQgetvalue(res, 0, 1));
    long own = atol(PQgetvalue(res, 0, 2));
    if (other_recent != 0 || mine_elsewhere != 0 || own < min_own) {
        su_violation("leak_rls", "%s: RLS showed %ld recent rows and %ld own rows of other "
                     "tenants; %ld own rows of this tenant, expected at least %ld",
                     what, other_recent, mine_elsewhere, own, min_own);
        return 0;
    }
    return 1;
}

/* The leftovers found, '' when clean (see SU_CLEAN_SQL). */
#define CLEAN_EXPR                                                              \
    "concat_ws(' ',"                                                            \
    "  CASE WHEN private.get_current_user_id() IS DISTINCT FROM $2::uuid"       \
    "       THEN 'user=' || COALESCE(private.get_current_user_id()::text, 'NULL') END," \
    "  CASE WHEN private.get_current_tenant_id() IS DISTINCT FROM $3::uuid"     \
    "       THEN 'tenant=' || COALESCE(private.get_current_tenant_id()::text, 'NULL') END," \
    "  CASE WHEN private.get_current_role() IS DISTINCT FROM $4::text"          \
    "       THEN 'role=' || COALESCE(private.get_current_role(), 'NULL') END,"  \
    "  'session_id=' || NULLIF(current_setting('myapp.session_id', true), ''),"  \
    "  'metadata=' || NULLIF(current_setting('myapp.context_metadata', true), '')," \
    "  'created_at=' || NULLIF(current_setting('myapp.context_created_at', true), '')," \
    "  CASE WHEN CASE WHEN $5::text IS NULL THEN private.get_audit_context() IS NOT NULL" \
    "                 ELSE (private.get_audit_context() ->> 'ticket') IS DISTINCT FROM $5::text END" \
    "       THEN 'audit=' || COALESCE(private.get_audit_context()::text, 'NULL') END," \
    "  CASE WHEN private.is_impersonating() THEN"                               \
    "       'impersonating(original=' || private.get_original_user_id() || ')' END," \
    "  'original_role=' || NULLIF(current_setting('myapp.original_role', true), '')," \
    "  CASE WHEN current_setting('myapp.is_impersonating', true) = 'true'"      \
    "       THEN 'is_impersonating=true' END,"                                   \
    "  CASE WHEN current_user <> session_user THEN 'current_user=' || current_user END," \
    "  CASE WHEN session_user <> $1::text THEN 'session_user=' || session_user END," \
    "  CASE WHEN current_setting('role') <> 'none' THEN 'role_guc=' || current_setting('role') END," \
    "  CASE WHEN current_setting('myapp.stress_baseline', true) IS DISTINCT FROM 'clean'" \
    "       THEN 'setting stress_baseline=' ||"                                 \
    "            COALESCE(current_setting('myapp.stress_baseline', true), 'NULL') END," \
    "  CASE WHEN current_setting('myapp.default_page_size', true) IS DISTINCT FROM '25'" \
    "       THEN 'default_page_size=' ||"                                       \
    "            COALESCE(current_setting('myapp.default_page_size', true), 'NULL') END," \
    "  CASE WHEN current_setting('statement_timeout') <> '30s'"                 \
    "       THEN 'statement_timeout=' || current_setting('statement_timeout') END," \
    "  CASE WHEN current_setting('application_name') LIKE 'myapp[%'"            \
    "       THEN 'application_name=' || current_setting('application_name') END)"

const char SU_CLEAN_SQL[] = "SELECT " CLEAN_EXPR;
const char SU_ASSERT_CLEAN_SQL[] = "SELECT data.stress_assert_clean(" CLEAN_EXPR ")";

int
su_check_clean(myappctx_conn *conn, const char *login, int *leaked, myappctx_error *err)
{
    *leaked = 0;
    if (myappctx_conn_in_transaction(conn)) {
        *leaked = 1;
        su_violation("leak_acquire", "lent inside a transaction block");
        return MYAPPCTX_OK;
    }
    const char *p[] = { login, NULL, NULL, NULL, NULL };
    PGresult *res;
    int rc = myappctx_exec(conn, SU_CLEAN_SQL, 5, p, &res, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    const char *left = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "(no row)";
    if (*left != '\0') {
        *leaked = 1;
        su_violation("leak_acquire", "a borrower saw an earlier borrower's state: %s", left);
    }
    PQclear(res);
    return MYAPPCTX_OK;
}

/* ------------------------------------------------------------- the ledger */

enum su_outcome
su_commit_outcome(int rc)
{
    return rc == MYAPPCTX_OK ? SU_COMMITTED : rc == MYAPPCTX_ECONNECT ? SU_UNKNOWN : SU_ABSENT;
}

int64_t
su_token(int worker, uint64_t seq)
{
    return (int64_t)worker * 1000000000LL + (int64_t)seq;
}

struct su_entry *
su_ledger_add(struct su_ledger *l, int64_t token, enum su_outcome outcome,
              int tenant, int user, int role, int audited)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        struct su_entry *e = realloc(l->e, cap * sizeof *e);
        if (e == NULL)
            su_die("out of memory (ledger)");
        l->e = e;
        l->cap = cap;
    }
    struct su_entry *e = &l->e[l->n++];
    *e = (struct su_entry){ token, (unsigned char)outcome, (unsigned char)tenant,
                            (unsigned char)user, (unsigned char)role, (unsigned char)audited };
    return e;
}

void
su_ledger_free(struct su_ledger *l)
{
    free(l->e);
    l->e = NULL;
    l->n = l->cap = 0;
}

static int
cmp_entry(const void *a, const void *b)
{
    int64_t x = ((const struct su_entry *)a)->token, y = ((const struct su_entry *)b)->token;
    return x < y ? -1 : x > y;
}

static int
same_text(const char *want, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return want == NULL;
    return want != NULL && strcmp(want, PQgetvalue(res, row, col)) == 0;
}

/* The row of a present token must carry the identity its unit set. */
static void
check_identity(const struct su_world *w, const struct su_entry *e, const PGresult *res, int row,
               struct su_verify_result *out)
{
    char ticket[32];
    snprintf(ticket, sizeof ticket, "T-%lld", (long long)e->token);
    const char *user = w->user[e->user].text;
    if (same_text(w->tenant_text[e->tenant], res, row, 1) && same_text(user, res, row, 2) &&
        same_text(su_role_names[e->role], res, row, 3) &&
        same_text(e->audited ? ticket : NULL, res, row, 4))
        return;
    out->identity_mismatch++;
    su_violation("leak_identity", "token %lld written as tenant=%s user=%s role=%s ticket=%s;"
                 " the unit set tenant=%s user=%s role=%s ticket=%s",
                 (long long)e->token, PQgetvalue(res, row, 1), PQgetvalue(res, row, 2),
                 PQgetisnull(res, row, 3) ? "NULL" : PQgetvalue(res, row, 3),
                 PQgetisnull(res, row, 4) ? "NULL" : PQgetvalue(res, row, 4),
                 w->tenant_text[e->tenant], user,
                 su_role_names[e->role] ? su_role_names[e->role] : "NULL",
                 e->audited ? ticket : "NULL");
}

static void
count_missing(const struct su_entry *e, struct su_verify_result *out)
{
    switch (e->outcome) {
    case SU_COMMITTED:
        out->committed++;
        out->committed_missing++;
        su_violation("false_success", "token %lld was reported committed but is missing",
                     (long long)e->token);
        break;
    case SU_ABSENT:
        out->absent++;
        break;
    default:
        out->unknown_absent++;
        break;
    }
}

static void
count_present(const struct su_entry *e, struct su_verify_result *out)
{
    switch (e->outcome) {
    case SU_COMMITTED:
        out->committed++;
        break;
    case SU_ABSENT:
        out->absent++;
        out->absent_present++;
        su_violation("false_failure", "token %lld was reported failed or rolled back but "
                     "is committed", (long long)e->token);
        break;
    default:
        out->unknown_present++;
        break;
    }
}

void
su_verify(myappctx_conn *su, const struct su_world *w, struct su_ledger *ledgers,
          int nledgers, struct su_verify_result *out)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (int i = 0; i < nledgers; i++)
        total += ledgers[i].n;
    struct su_entry *all = malloc((total ? total : 1) * sizeof *all);
    if (all == NULL)
        su_die("out of memory (verify)");
    size_t k = 0;
    for (int i = 0; i < nledgers; i++) {
        memcpy(all + k, ledgers[i].e, ledgers[i].n * sizeof *all);
        k += ledgers[i].n;
    }
    qsort(all, total, sizeof *all, cmp_entry);

    PGresult *res;
    myappctx_error err;
    if (myappctx_exec(su, "SELECT token, tenant_id, user_id, ctx_role, audit_ticket"
                          " FROM data.stress_events ORDER BY token", 0, NULL, &res, &err) != MYAPPCTX_OK)
        su_die("verify: %s", err.message);

    /* Merge join of two sorted lists. */
    int rows = PQntuples(res), r = 0;
    size_t i = 0;
    while (i < total || r < rows) {
        int64_t row_token = r < rows ? strtoll(PQgetvalue(res, r, 0), NULL, 10) : INT64_MAX;
        if (i < total && all[i].token < row_token) {
            count_missing(&all[i++], out);
        } else if (i < total && all[i].token == row_token) {
            count_present(&all[i], out);
            check_identity(w, &all[i], res, r, out);
            i++;
            r++;
        } else {
            out->stray++;
            su_violation("stray_row", "token %lld is in the table but no unit wrote it",
                         (long long)row_token);
            r++;
        }
    }
    PQclear(res);
    free(all);
}

void
su_verify_figures(const struct su_verify_result *r)
{
    su_figure("verified_committed", "%lu", r->committed);
    su_figure("false_success", "%lu", r->committed_missing);
    su_figure("verified_absent", "%lu", r->absent);
    su_figure("false_failure", "%lu", r->absent_present);
    su_figure("unknown_outcome_present", "%lu", r->unknown_present);
    su_figure("unknown_outcome_absent", "%lu", r->unknown_absent);
    su_figure("stray_rows", "%lu", r->stray);
    su_figure("identity_mismatch", "%lu", r->identity_mismatch);
}
