/* The context statement every unit starts with (lib/pipeline/unit.c),
 * checked against the one list of context variables
 * (lib/core/context_vars.h): each variable is set from the unit's
 * arguments or cleared when the session carries it, by kind, and the
 * statement is whole in every shape. */
#include "config.h"

#include <string.h>

#include "pipeline/pipeline.h"
#include "core/context_vars.h"
#include "testutil.h"

struct var { const char *name; enum mxi_context_vars_kind kind; };
#define VAR(name, kind) { #name, MXI_CONTEXT_VARS_##kind },
static const struct var vars[] = { MXI_CONTEXT_VARS(VAR) };
#define NVARS (sizeof vars / sizeof vars[0])

static const struct { int audit, nbaseline; } shapes[] = {
    { 0, 0 }, { 1, 0 }, { 0, 1 }, { 1, 3 }, { 0, 16 }, { 1, 16 }, { 0, 17 }, { 1, 200 },
};

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(every_variable_by_its_kind)
{
    char sql[16384], needle[128];
    int audit = shapes[_i].audit;
    size_t len = mxi_unit_sql(sql, sizeof sql, audit, shapes[_i].nbaseline);
    ck_assert_uint_lt(len, sizeof sql);
    ck_assert_msg(strncmp(sql, "SELECT ", 7) == 0, "%s", sql);
    ck_assert_msg(len >= 26 && strcmp(sql + len - 26, ") END IS NOT NULL AS dirty") == 0,
                  "statement is cut: ...%s", sql + (len > 60 ? len - 60 : 0));
    for (size_t i = 0; i < NVARS; i++) {
        snprintf(needle, sizeof needle, "set_config('myapp.%s', ", vars[i].name);
        int sets = count(sql, needle);
        snprintf(needle, sizeof needle, "set_config('myapp.%s', '', true)", vars[i].name);
        int clears = count(sql, needle);
        snprintf(needle, sizeof needle, "current_setting('myapp.%s', true)", vars[i].name);
        int reads = count(sql, needle);
        bool own = vars[i].kind == MXI_CONTEXT_VARS_UNIT ||
                   (audit && vars[i].kind == MXI_CONTEXT_VARS_AUDIT);
        bool kept = vars[i].kind == MXI_CONTEXT_VARS_KEPT;
        if (own)
            ck_assert_msg(sets == 1 && clears == 0 && reads == 0,
                          "%s: set %d, cleared %d, read %d (want set once)", vars[i].name, sets,
                          clears, reads);
        else if (kept)
            ck_assert_msg(sets == 0 && reads == 0, "%s: kept, but set %d, read %d", vars[i].name,
                          sets, reads);
        else
            ck_assert_msg(sets == 1 && clears == 1 && reads == 1,
                          "%s: set %d, cleared %d, read %d (want read and cleared)",
                          vars[i].name, sets, clears, reads);
    }
    /* A foreign role is always checked and cleared. */
    ck_assert_int_eq(count(sql, "current_user <> session_user"), 1);
    ck_assert_int_eq(count(sql, "set_config('role', 'none', true)"), 1);
    /* The baseline: compared and restored one by one up to 16 pairs, as
     * arrays beyond; its parameters follow the unit's. */
    int base = audit ? 5 : 3, nb = shapes[_i].nbaseline;
    if (nb > 0 && nb <= 16) {
        for (int k = 0; k < nb; k++) {
            snprintf(needle, sizeof needle, "current_setting($%d, true) IS DISTINCT FROM $%d",
                     base + 2 * k + 1, base + 2 * k + 2);
            ck_assert_msg(count(sql, needle) == 1, "missing: %s", needle);
            snprintf(needle, sizeof needle, "set_config($%d, $%d, true)", base + 2 * k + 1,
                     base + 2 * k + 2);
            ck_assert_msg(count(sql, needle) == 1, "missing: %s", needle);
        }
        snprintf(needle, sizeof needle, "$%d", base + 2 * nb + 1);
        ck_assert_msg(strstr(sql, needle) == NULL, "parameter %s beyond the baseline", needle);
    } else if (nb > 16) {
        snprintf(needle, sizeof needle, "unnest($%d::text[]) AS n) IS DISTINCT FROM $%d::text[]",
                 base + 1, base + 2);
        ck_assert_msg(count(sql, needle) == 1, "missing: %s", needle);
    } else {
        snprintf(needle, sizeof needle, "$%d", base + 1);
        ck_assert_msg(strstr(sql, needle) == NULL, "parameter %s without a baseline", needle);
    }
}
END_TEST

/* Sealed (myappctx/seal.h): the verifier sets the whole context, with the
 * MAC over exactly its parameters ($1..$8, session id and metadata ''); no
 * context variable is written or read with set_config(), which the seal
 * refuses; a foreign role and the baseline are handled as unsealed, from $9. */
START_TEST(sealed_statement)
{
    char sql[16384], needle[128];
    int nb = shapes[_i].nbaseline;
    size_t len = mxi_unit_sealed_sql(sql, sizeof sql, shapes[_i].audit, nb, true);
    ck_assert_uint_lt(len, sizeof sql);
    static const char head[] =
        "SELECT myappctx_seal.set_context($1::bytea, $2::bigint, true, $3, $4, $5, '', '', "
        "$6, $7, $8::bytea), ";
    ck_assert_msg(strncmp(sql, head, strlen(head)) == 0, "%s", sql);
    ck_assert_msg(len >= 26 && strcmp(sql + len - 26, ") END IS NOT NULL AS dirty") == 0,
                  "statement is cut: ...%s", sql + (len > 60 ? len - 60 : 0));
    ck_assert_int_eq(count(sql, "'myapp."), 0);
    ck_assert_int_eq(count(sql, "current_user <> session_user"), 1);
    ck_assert_int_eq(count(sql, "set_config('role', 'none', true)"), 1);
    if (nb > 0 && nb <= 16) {
        for (int k = 0; k < nb; k++) {
            snprintf(needle, sizeof needle, "set_config($%d, $%d, true)", 9 + 2 * k, 10 + 2 * k);
            ck_assert_msg(count(sql, needle) == 1, "missing: %s", needle);
        }
    } else if (nb > 16) {
        ck_assert_int_eq(count(sql, "unnest($9::text[]) AS n) IS DISTINCT FROM $10::text[]"), 1);
    } else {
        ck_assert_msg(strstr(sql, "$9") == NULL, "a parameter beyond the sealed ones: %s", sql);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("unit_sql");
    TCase *tc = tcase_create("unit_sql");
    tcase_add_loop_test(tc, every_variable_by_its_kind, 0, (int)(sizeof shapes / sizeof shapes[0]));
    tcase_add_loop_test(tc, sealed_statement, 0, (int)(sizeof shapes / sizeof shapes[0]));
    suite_add_tcase(s, tc);
    return tu_run(s);
}
