/* The MACs of sealed mode (lib/core/hmac.c) against the test vector of the
 * specification, read from extension/README.md itself ("vector NAME VALUE"
 * lines), so that the document, the extension's tests and the library
 * cannot drift apart; and the key helpers of myappctx/seal.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "testutil.h"

/* The value of "vector NAME" in the README (malloc'd), or fails. */
static char *
vector(const char *name)
{
    const char *top = getenv("top_srcdir");
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/extension/README.md", top != NULL ? top : "..");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    size_t len = strlen(name);
    char *v = NULL;
    while (v == NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "vector ", 7) == 0 && strncmp(line + 7, name, len) == 0 &&
            (line[7 + len] == ' ' || line[7 + len] == '\n')) {
            char *p = line + 7 + len;
            while (*p == ' ')
                p++;
            p[strcspn(p, "\n")] = '\0';
            v = strdup(p);
        }
    }
    fclose(f);
    ck_assert_msg(v != NULL, "README.md has no vector %s", name);
    return v;
}

START_TEST(readme_test_vector)
{
    unsigned char key[MYAPPCTX_SEAL_KEY_MAX], mac[MXI_HMAC_LEN], stream[16];
    size_t key_len = 0;
    myappctx_error err;
    char *hex = vector("key");
    tu_assert_ok(myappctx_seal_key_from_hex(key, &key_len, hex, &err), err);
    free(hex);
    ck_assert_uint_eq(key_len, 32);

    struct mxi_hmac_key *k = mxi_hmac_key_new(key, key_len);
    ck_assert_ptr_nonnull(k);
    char id[MYAPPCTX_SEAL_KEY_ID_SIZE], *want = vector("key_id");
    tu_assert_ok(myappctx_seal_key_id(id, key, key_len, &err), err);
    ck_assert_str_eq(id, want);
    free(want);

    char got[2 * MXI_HMAC_LEN + 1];
    for (int bind = 0; bind <= 1; bind++) {
        ck_assert(mxi_hmac_open(k, bind, mac));
        mxi_hmac_hex(got, mac, sizeof mac);
        want = vector(bind ? "open.backend" : "open.any");
        ck_assert_str_eq(got, want);
        free(want);
    }

    char *s = vector("context.stream");
    for (int i = 0; i < 16; i++) {
        unsigned int x;
        ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &x), 1);
        stream[i] = (unsigned char)x;
    }
    free(s);
    static const char *const names[MXI_HMAC_CONTEXT_FIELDS] = {
        "context.user_id", "context.tenant_id", "context.role", "context.session_id",
        "context.metadata", "context.audit_reason", "context.audit_ticket",
    };
    char *fields[MXI_HMAC_CONTEXT_FIELDS];
    for (int i = 0; i < MXI_HMAC_CONTEXT_FIELDS; i++)
        fields[i] = vector(names[i]);
    char *counter = vector("context.counter"), *scope = vector("context.scope");
    ck_assert(mxi_hmac_context(k, stream, atoll(counter), strcmp(scope, "local") == 0,
                               (const char *const *)fields, mac));
    mxi_hmac_hex(got, mac, sizeof mac);
    want = vector("context.mac");
    ck_assert_str_eq(got, want);
    free(want);

    /* One byte moved between two fields changes the MAC (the lengths are
     * part of the message). */
    char role[64], session[300];
    snprintf(role, sizeof role, "%s%c", fields[2], fields[3][0]);
    snprintf(session, sizeof session, "%s", fields[3] + 1);
    char *shifted[MXI_HMAC_CONTEXT_FIELDS];
    memcpy(shifted, fields, sizeof shifted);
    shifted[2] = role;
    shifted[3] = session;
    unsigned char other[MXI_HMAC_LEN];
    ck_assert(mxi_hmac_context(k, stream, atoll(counter), true,
                               (const char *const *)shifted, other));
    ck_assert(memcmp(mac, other, sizeof mac) != 0);
    /* The keyed context is reused message after message: same MAC again. */
    ck_assert(mxi_hmac_context(k, stream, atoll(counter), true, (const char *const *)fields,
                               other));
    ck_assert(memcmp(mac, other, sizeof mac) == 0);
    mxi_hmac_key_free(k);
    for (int i = 0; i < MXI_HMAC_CONTEXT_FIELDS; i++)
        free(fields[i]);
    free(counter);
    free(scope);
}
END_TEST

/* Large fields (metadata up to 64 KiB) take the heap path, same bytes. */
START_TEST(large_fields)
{
    unsigned char key[32] = { 1 }, a[MXI_HMAC_LEN], b[MXI_HMAC_LEN], stream[16] = { 2 };
    struct mxi_hmac_key *k = mxi_hmac_key_new(key, sizeof key);
    ck_assert_ptr_nonnull(k);
    char *big = tu_repeat('m', 65536);
    const char *f[MXI_HMAC_CONTEXT_FIELDS] = { "u", "", "", "", big, "", "" };
    ck_assert(mxi_hmac_context(k, stream, 7, true, f, a));
    ck_assert(mxi_hmac_context(k, stream, 7, true, f, b));
    ck_assert(memcmp(a, b, sizeof a) == 0);
    big[65535] = 'n';
    ck_assert(mxi_hmac_context(k, stream, 7, true, f, b));
    ck_assert(memcmp(a, b, sizeof a) != 0);
    free(big);
    mxi_hmac_key_free(k);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hmac");
    TCase *tc = tcase_create("hmac");
    tcase_add_test(tc, readme_test_vector);
    tcase_add_test(tc, large_fields);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
