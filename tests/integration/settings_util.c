/* Helpers shared by the settings-area suites (see settings_util.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings_util.h"

myappctx_conn *
su_app_connect(void)
{
    return tu_connect_opts(SU_APP_CONNINFO, NULL);
}

static void
random_bytes(unsigned char *buf, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, n, f), n);
    fclose(f);
}

void
su_unique(const char *prefix, char *buf, size_t size)
{
    static unsigned counter;
    unsigned char r[4];
    random_bytes(r, sizeof r);
    snprintf(buf, size, "%s_%ld_%u_%02x%02x%02x%02x", prefix, (long)getpid(), counter++,
             r[0], r[1], r[2], r[3]);
}

void
su_random_uuid(myappctx_uuid *out, char text[MYAPPCTX_UUID_BUFSIZE])
{
    random_bytes(out->bytes, sizeof out->bytes);
    out->bytes[6] = (unsigned char)((out->bytes[6] & 0x0f) | 0x40);
    out->bytes[8] = (unsigned char)((out->bytes[8] & 0x3f) | 0x80);
    myappctx_uuid_format(out, text);
}

void
su_exec(myappctx_conn *conn, const char *sql, int nparams, const char *const *params)
{
    myappctx_error err;
    int rc = myappctx_exec(conn, sql, nparams, params, NULL, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s [%s]", sql, err.message, err.sqlstate);
}

char *
su_value(myappctx_conn *conn, const char *sql, int nparams, const char *const *params)
{
    myappctx_error err;
    PGresult *res;
    int rc = myappctx_exec(conn, sql, nparams, params, &res, &err);
    ck_assert_msg(rc == MYAPPCTX_OK, "%s: %s [%s]", sql, err.message, err.sqlstate);
    ck_assert_int_eq(PQntuples(res), 1);
    char *v = strdup(PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
    ck_assert_ptr_nonnull(v);
    PQclear(res);
    return v;
}

void
su_set_context(myappctx_conn *conn, const char *user_id, const char *tenant_id)
{
    const char *p[] = { user_id, tenant_id };
    su_exec(conn, "SELECT api.set_context($1::uuid, $2::uuid)", 2, p);
}

void
su_seed_user(const char *user_id, const char *role)
{
    myappctx_conn *su = tu_connect();
    const char *p[] = { user_id, role };
    su_exec(su, "INSERT INTO data.users (id, email, name, role)"
                " VALUES ($1::uuid, $1 || '@test.invalid', 'test user', $2)", 2, p);
    myappctx_conn_close(su);
}

void
su_seed_membership(const char *user_id, const char *tenant_id, int active)
{
    myappctx_conn *su = tu_connect();
    const char *p[] = { user_id, tenant_id, active ? "true" : "false" };
    su_exec(su, "INSERT INTO data.user_tenants (user_id, tenant_id, is_active)"
                " VALUES ($1::uuid, $2::uuid, $3::boolean)", 3, p);
    myappctx_conn_close(su);
}
