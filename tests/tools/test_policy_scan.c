/* tools/policy_scan.c: which context-reader calls in a deparsed policy run
 * per row, and the rewrite doctor proposes.  No server: the inputs are the
 * texts pg_get_expr() prints (PostgreSQL 15, search_path = pg_catalog). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "policy_scan.c"   /* the tool's file, compiled into this test */

static size_t
bare_calls(const char *expr)
{
    struct cli_policy_scan_call calls[16];
    size_t n = cli_policy_scan_calls(expr, calls, 16), bare = 0;
    ck_assert_uint_le(n, 16);
    for (size_t i = 0; i < n; i++)
        bare += !calls[i].in_subquery;
    return bare;
}

static void
assert_wrap(const char *expr, const char *expected, size_t expected_changes)
{
    size_t changed;
    char *w = cli_policy_scan_wrap(expr, &changed);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w, expected);
    ck_assert_uint_eq(changed, expected_changes);
    free(w);
}

START_TEST(subquery_form_is_once_per_statement)
{
    /* What the demo's policies deparse to. */
    const char *e = "(tenant_id = ( SELECT private.get_current_tenant_id() AS get_current_tenant_id))";
    struct cli_policy_scan_call c[2];
    ck_assert_uint_eq(cli_policy_scan_calls(e, c, 2), 1);
    ck_assert_int_eq(c[0].in_subquery, 1);
    ck_assert_uint_eq(c[0].start, strlen("(tenant_id = ( SELECT "));
    ck_assert_uint_eq(c[0].end - c[0].start, strlen("private.get_current_tenant_id()"));
    ck_assert_uint_eq(bare_calls(e), 0);
    assert_wrap(e, e, 0);
}
END_TEST

START_TEST(bare_call_is_per_row)
{
    ck_assert_uint_eq(bare_calls("(tenant_id = private.get_current_tenant_id())"), 1);
    ck_assert_uint_eq(bare_calls("private.is_impersonating()"), 1);
    ck_assert_uint_eq(bare_calls("((user_id = private.get_current_user_id()) AND "
                                 "(private.get_current_role() = 'admin'::text))"), 2);
    /* Every reader of sql/002_context.sql is recognised. */
    for (const char *const *r = cli_policy_scan_readers; *r != NULL; r++) {
        char e[128];
        snprintf(e, sizeof e, "(x = private.%s())", *r);
        ck_assert_msg(bare_calls(e) == 1, "%s", e);
    }
}
END_TEST

START_TEST(mixed_expression_is_rewritten_once)
{
    assert_wrap("((tenant_id = private.get_current_tenant_id()) AND "
                "(user_id = ( SELECT private.get_current_user_id() AS get_current_user_id)))",
                "((tenant_id = (SELECT private.get_current_tenant_id())) AND "
                "(user_id = ( SELECT private.get_current_user_id() AS get_current_user_id)))", 1);
    assert_wrap("private.is_impersonating()", "(SELECT private.is_impersonating())", 1);
    /* IN ( SELECT ...) is a sub-select too. */
    assert_wrap("(tenant_id IN ( SELECT private.get_current_tenant_id() AS get_current_tenant_id))",
                "(tenant_id IN ( SELECT private.get_current_tenant_id() AS get_current_tenant_id))", 0);
}
END_TEST

START_TEST(literals_and_lookalikes_are_not_calls)
{
    ck_assert_uint_eq(bare_calls("(x <> 'private.get_current_tenant_id()'::text)"), 0);
    ck_assert_uint_eq(bare_calls("(x <> 'it''s private.get_current_user_id()'::text)"), 0);
    ck_assert_uint_eq(bare_calls("(x <> E'\\\\'' private.get_current_user_id()'::text)"), 0);
    ck_assert_uint_eq(bare_calls("(\"private.get_current_user_id()\" IS NULL)"), 0);
    ck_assert_uint_eq(bare_calls("(tenant_id = myprivate.get_current_tenant_id())"), 0);
    ck_assert_uint_eq(bare_calls("(tenant_id = x.private.get_current_tenant_id())"), 0);
    ck_assert_uint_eq(bare_calls("(tenant_id = private.get_current_tenant_idx())"), 0);
    ck_assert_uint_eq(bare_calls("(tenant_id = public.get_current_tenant_id())"), 0);
    /* A closing parenthesis inside a literal does not end the sub-select. */
    ck_assert_uint_eq(bare_calls("(x = ( SELECT (private.get_current_role() || ')'::text) AS r))"), 0);
    /* After the sub-select has closed, a call is per row again. */
    ck_assert_uint_eq(bare_calls("((a = ( SELECT 1)) AND (b = private.get_current_user_id()))"), 1);
}
END_TEST

START_TEST(many_calls_are_counted_beyond_max)
{
    const char *e = "((a = private.get_current_user_id()) OR (b = private.get_current_user_id()) "
                    "OR (c = private.get_current_user_id()))";
    struct cli_policy_scan_call c[1];
    ck_assert_uint_eq(cli_policy_scan_calls(e, c, 1), 3);
    ck_assert_uint_eq(cli_policy_scan_calls(e, NULL, 0), 3);
    size_t changed;
    char *w = cli_policy_scan_wrap(e, &changed);
    ck_assert_uint_eq(changed, 3);
    ck_assert_uint_eq(bare_calls(w), 0);
    free(w);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("policy_scan");
    TCase *tc = tcase_create("scan");
    tcase_add_test(tc, subquery_form_is_once_per_statement);
    tcase_add_test(tc, bare_call_is_per_row);
    tcase_add_test(tc, mixed_expression_is_rewritten_once);
    tcase_add_test(tc, literals_and_lookalikes_are_not_calls);
    tcase_add_test(tc, many_calls_are_counted_beyond_max);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
