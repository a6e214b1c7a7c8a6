/* Status codes, descriptions and SQLSTATE mapping (no server). */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "testutil.h"

START_TEST(every_code_has_a_description)
{
    for (int code = MYAPPCTX_OK; code >= MYAPPCTX_ESEAL; code--)
        ck_assert_msg(strcmp(myappctx_strerror(code), "unknown error code") != 0,
                      "code %d has no description", code);
    ck_assert_str_eq(myappctx_strerror(1), "unknown error code");
    ck_assert_str_eq(myappctx_strerror(-1000), "unknown error code");
    ck_assert_str_eq(myappctx_strerror(MYAPPCTX_ESEAL - 1), "unknown error code");
    ck_assert_int_eq(MYAPPCTX_EPRIVILEGED, -27);     /* codes only grow, never move */
}
END_TEST

START_TEST(schema_sqlstates_map_to_named_codes)
{
    static const struct { const char *state; int code; } cases[] = {
        { "P0050", MYAPPCTX_ENOCONTEXT }, { "P0051", MYAPPCTX_ENOTENANT },
        { "P0052", MYAPPCTX_EACCESS },    { "P0053", MYAPPCTX_ENOTADMIN },
        { "P0054", MYAPPCTX_ERATELIMIT }, { "P0055", MYAPPCTX_EIMPERSONATING },
        { "P0056", MYAPPCTX_ENOTIMPERSONATING }, { "P0057", MYAPPCTX_ENOUSER },
        { "P0058", MYAPPCTX_EBADARG },    { "25P02", MYAPPCTX_ETXNFAILED },
        { "57014", MYAPPCTX_ECANCELED },  { "08006", MYAPPCTX_ECONNECT },
        { "08001", MYAPPCTX_ECONNECT },   { "57P01", MYAPPCTX_ECONNECT },   { "22012", MYAPPCTX_ESERVER },
        { "P0001", MYAPPCTX_ESERVER },    { "P0059", MYAPPCTX_ESERVER },
        /* myappctx_seal (extension/README.md, "Refusals") */
        { "MX001", MYAPPCTX_ESEAL },      { "MX002", MYAPPCTX_ESEAL },
        { "MX004", MYAPPCTX_ESEAL },      { "MX007", MYAPPCTX_ESEAL },
        { "MY001", MYAPPCTX_ESERVER },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(myappctx_status_from_sqlstate(cases[i].state) == cases[i].code,
                      "%s mapped to %d", cases[i].state,
                      myappctx_status_from_sqlstate(cases[i].state));
    ck_assert_int_eq(myappctx_status_from_sqlstate(NULL), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_status_from_sqlstate("P005"), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_status_from_sqlstate("P00500"), MYAPPCTX_EINVAL);
}
END_TEST

/* The layout is ABI: one size for every version, version 1's fields where
 * they were, the names big enough for any default NAMEDATALEN name. */
START_TEST(error_struct_has_a_fixed_layout)
{
    ck_assert_uint_eq(sizeof(myappctx_error), MYAPPCTX_ERROR_SIZE);
    ck_assert_uint_eq(offsetof(myappctx_error, code), 0);
    ck_assert_uint_eq(offsetof(myappctx_error, sqlstate), sizeof(int));
    ck_assert_uint_eq(offsetof(myappctx_error, message), sizeof(int) + 6);
    ck_assert_uint_ge(MYAPPCTX_ERROR_NAME_SIZE, 64);
    ck_assert_uint_gt(sizeof ((myappctx_error *)0)->reserved, 0);
    ck_assert_int_eq(MYAPPCTX_ERROR_VERSION, 2);
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_str_eq(myappctx_version(), MYAPPCTX_VERSION_STRING);
    ck_assert_int_eq(MYAPPCTX_VERSION_HEX,
                     (MYAPPCTX_VERSION_MAJOR << 16) | (MYAPPCTX_VERSION_MINOR << 8) |
                     MYAPPCTX_VERSION_MICRO);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("error");
    tcase_add_test(tc, every_code_has_a_description);
    tcase_add_test(tc, schema_sqlstates_map_to_named_codes);
    tcase_add_test(tc, error_struct_has_a_fixed_layout);
    tcase_add_test(tc, version_matches_header);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
