/* Connections, fresh names and ids, seeded rows, databases and traffic
 * recording (see testutil.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "testutil.h"

/* -------------------------------------------------------- connections */

int
tu_conninfo_is_superuser(const char *conninfo)
{
    return conninfo == NULL || strstr(conninfo, "user=") == NULL ||
           strstr(conninfo, "user=postgres") != NULL;
}

int
tu_sealed(void)
{
    const char *v = getenv("TU_SEALED");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

const unsigned char *
tu_seal_key(size_t *len)
{
    static unsigned char key[MYAPPCTX_SEAL_KEY_MAX];
    static size_t key_len;
    if (key_len == 0) {
        char path[4096], hex[512] = "";
        const char *file = getenv("TU_SEAL_KEY_FILE");
        const char *dir = getenv("MYAPPCTX_TEST_DIR");
        if (file == NULL)
            snprintf(path, sizeof path, "%s/seal.key", dir != NULL ? dir : ".");
        else
            snprintf(path, sizeof path, "%s", file);
        FILE *f = fopen(path, "r");
        ck_assert_msg(f != NULL, "sealed mode: cannot read the key file %s "
                      "(tests/harness/setup-sealed.sh writes it)", path);
        size_t n = fread(hex, 1, sizeof hex - 1, f);
        fclose(f);
        hex[n] = '\0';
        myappctx_error err = { 0 };
        size_t got = 0;
        tu_assert_ok(myappctx_seal_key_from_hex(key, &got, hex, &err), err);
        key_len = got;
    }
    *len = key_len;
    return key;
}

/* In sealed mode, connections as app_service carry the key. */
static int
wants_seal(const char *conninfo, const myappctx_conn_options *opts)
{
    return tu_sealed() && strstr(conninfo, "user=app_service") != NULL &&
           (opts == NULL || opts->seal_key == NULL);
}

myappctx_conn *
tu_connect_opts(const char *conninfo, const myappctx_conn_options *opts)
{
    myappctx_conn *conn = NULL;
    myappctx_error err = { 0 };
    myappctx_conn_options defaults = MYAPPCTX_CONN_OPTIONS_INIT;
    if (opts == NULL) {
        defaults.allow_privileged = tu_conninfo_is_superuser(conninfo);
        opts = &defaults;
    }
    if (conninfo == NULL)
        conninfo = "";
    myappctx_conn_options sealed = MYAPPCTX_CONN_OPTIONS_INIT;
    if (wants_seal(conninfo, opts)) {
        if (opts != NULL)
            sealed = *opts;
        sealed.seal_key = tu_seal_key(&sealed.seal_key_len);
        opts = &sealed;
    }
    int rc = myappctx_conn_open(&conn, conninfo, opts, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "connect '%s' failed (is the harness running?): %s",
                  conninfo, err.message);
    return conn;
}

const char *
tu_password_role(void)
{
    myappctx_conn *su = tu_connect();
    /* Parallel suites may race to create it: either error means it exists. */
    tu_sql(myappctx_conn_pg(su),
           "SET password_encryption = 'scram-sha-256'; "
           "DO $$ BEGIN CREATE ROLE " TU_PASSWORD_ROLE " LOGIN PASSWORD '"
           TU_PASSWORD_ROLE_PASSWORD "'; "
           "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
    myappctx_conn_close(su);
    return TU_PASSWORD_ROLE;
}

myappctx_conn *
tu_connect(void)
{
    return tu_connect_opts("", NULL);
}

myappctx_conn *
tu_app_connect(void)
{
    return tu_connect_opts(TU_APP_CONNINFO, NULL);
}

myappctx_conn *
tu_txn_pooler_connect(const char *conninfo)
{
    myappctx_conn_options opts = MYAPPCTX_CONN_OPTIONS_INIT;
    opts.txn_pooler = 1;
    if (conninfo == NULL)
        conninfo = TU_APP_CONNINFO;
    opts.allow_privileged = tu_conninfo_is_superuser(conninfo);
    return tu_connect_opts(conninfo, &opts);
}

const char *
tu_pgbouncer_conninfo(const char *user)
{
    static __thread char buf[512];
    const char *host = getenv("MYAPPCTX_PGBOUNCER_HOST");
    const char *port = getenv("MYAPPCTX_PGBOUNCER_PORT");
    const char *db = getenv("PGDATABASE");
    if (host == NULL || port == NULL)
        return NULL;
    snprintf(buf, sizeof buf, "host=%s port=%s dbname=%s user=%s", host, port,
             db ? db : "myappctx_test", user ? user : "postgres");
    return buf;
}

myappctx_conn *
tu_bouncer_connect(const char *user)
{
    const char *conninfo = tu_pgbouncer_conninfo(user);
    ck_assert_msg(conninfo != NULL, "the harness runs a PgBouncer (--pgbouncer)");
    return tu_txn_pooler_connect(conninfo);
}

char *
tu_create_database(const char *prefix)
{
    char name[64], sql[128];
    tu_unique(prefix, name, sizeof name);
    myappctx_conn *c = tu_connect();
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name); /* test-only, name is ours */
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
    size_t len = strlen(name) + 16;
    char *conninfo = malloc(len);
    ck_assert_ptr_nonnull(conninfo);
    snprintf(conninfo, len, "dbname=%s", name);
    return conninfo;
}

void
tu_drop_database(const char *conninfo)
{
    char sql[160];
    const char *name = strncmp(conninfo, "dbname=", 7) == 0 ? conninfo + 7 : conninfo;
    myappctx_conn *c = tu_connect();
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}

/* ---------------------------------------------------- names and rows */

static void
random_bytes(void *buf, size_t n)
{
    ck_assert_int_eq(getrandom(buf, n, 0), (ssize_t)n);
}

void
tu_random_uuid(myappctx_uuid *out, char *text)
{
    myappctx_uuid u;
    random_bytes(u.bytes, sizeof u.bytes);
    tu_uuid_make_v4(&u);
    if (out != NULL)
        *out = u;
    if (text != NULL)
        myappctx_uuid_format(&u, text);
}

void
tu_unique(const char *prefix, char *buf, size_t size)
{
    static unsigned counter;
    unsigned r;
    random_bytes(&r, sizeof r);
    int n = snprintf(buf, size, "%s_%ld_%u_%08x", prefix, (long)getpid(), counter++, r);
    ck_assert_msg(n > 0 && (size_t)n < size, "unique name too long for its buffer");
}

void
tu_seed_user(myappctx_uuid *out, const char *role)
{
    char buf[MYAPPCTX_UUID_BUFSIZE];
    tu_random_uuid(out, buf);
    const char *params[] = { buf, role };
    myappctx_conn *su = tu_connect();
    tu_exec(su, "INSERT INTO data.users (id, email, name, role)"
                " VALUES ($1::uuid, $1 || '@example.com', 'test user', $2)", 2, params);
    myappctx_conn_close(su);
}

void
tu_seed_membership(const myappctx_uuid *user, const myappctx_uuid *tenant, int active)
{
    char u[MYAPPCTX_UUID_BUFSIZE], t[MYAPPCTX_UUID_BUFSIZE];
    const char *params[] = { myappctx_uuid_format(user, u), myappctx_uuid_format(tenant, t),
                             active ? "true" : "false" };
    myappctx_conn *su = tu_connect();
    tu_exec(su, "INSERT INTO data.user_tenants (user_id, tenant_id, is_active)"
                " VALUES ($1::uuid, $2::uuid, $3::boolean)", 3, params);
    myappctx_conn_close(su);
}

void
tu_delete_setting(const char *key)
{
    const char *params[] = { key };
    myappctx_conn *su = tu_connect();
    tu_exec(su, "DELETE FROM data.app_settings WHERE key = $1", 1, params);
    myappctx_conn_close(su);
}

/* ------------------------------------------------------------- traffic */

tu_trace
tu_trace_start(myappctx_conn *c)
{
    /* myappctx_conn_pg() runs a deferred pool reset: before recording. */
    tu_trace t = { tmpfile(), myappctx_conn_pg(c) };
    ck_assert_ptr_nonnull(t.file);
    ck_assert_ptr_nonnull(t.pg);
    PQtrace(t.pg, t.file);
    return t;
}

long
tu_trace_stop(tu_trace t)
{
    PQuntrace(t.pg);
    fflush(t.file);
    fseek(t.file, 0, SEEK_END);
    long size = ftell(t.file);
    fclose(t.file);
    return size;
}

long
tu_trace_round_trips(tu_trace t)
{
    PQuntrace(t.pg);
    fflush(t.file);
    rewind(t.file);
    long n = 0;
    char line[4096];
    /* PQtrace lines: [timestamp TAB] F|B TAB length TAB message ... */
    while (fgets(line, sizeof line, t.file) != NULL) {
        char *f = strstr(line, "F\t");
        if (f == NULL || (f != line && f[-1] != '\t'))
            continue;
        char *msg = strchr(f + 2, '\t');
        if (msg != NULL && (strncmp(msg + 1, "Sync", 4) == 0 || strncmp(msg + 1, "Query", 5) == 0))
            n++;
    }
    fclose(t.file);
    return n;
}
