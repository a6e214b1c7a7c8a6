/* Internal validation helpers (no server). */
#include "config.h"

#include <string.h>

#include "core/core.h"
#include "testutil.h"

START_TEST(text_accepts_valid_utf8)
{
    myappctx_error err;
    tu_assert_ok(mxi_text_check("plain", 10, false, "a", "t", &err), err);
    tu_assert_ok(mxi_text_check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 64, false, "a", "t", &err), err);
    tu_assert_ok(mxi_text_check("", 0, false, "a", "t", &err), err);
    tu_assert_ok(mxi_text_check(NULL, 10, true, "a", "t", &err), err);
    tu_assert_ok(mxi_text_check("0123456789", 10, false, "a", "t", &err), err);
}
END_TEST

static const char *const bad_utf8[] = {
    "\xc3",             /* truncated 2-byte */
    "\xe2\x82",         /* truncated 3-byte */
    "\xc0\xaf",         /* overlong '/' */
    "\xe0\x80\xaf",     /* overlong 3-byte */
    "\xed\xa0\x80",     /* surrogate U+D800 */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    "\xff",             /* invalid byte */
    "ok\x80",           /* stray continuation */
};

START_TEST(text_rejects_invalid_utf8)
{
    myappctx_error err;
    int rc = mxi_text_check(bad_utf8[_i], 100, false, "value", "t", &err);
    ck_assert_msg(rc == MYAPPCTX_EINVAL, "accepted bad UTF-8 #%d", _i);
    ck_assert_msg(strstr(err.message, "'value'") != NULL, "names the argument: %s", err.message);
}
END_TEST

START_TEST(text_rejects_null_and_overlong)
{
    myappctx_error err;
    ck_assert_int_eq(mxi_text_check(NULL, 10, false, "key", "t", &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "'key' is NULL") != NULL, "%s", err.message);
    ck_assert_int_eq(mxi_text_check("01234567890", 10, false, "key", "t", &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "longer than 10") != NULL, "%s", err.message);
}
END_TEST

/* Correctly rounded (strtod_l in the C locale): digit-by-digit
 * accumulation, as before, gave 0.30000000000000004 for "0.3". */
START_TEST(decimal_is_correctly_rounded)
{
    static const struct { const char *text; double want; } rows[] = {
        { "0.3", 0.3 }, { "-0.3", -0.3 }, { "0.1", 0.1 }, { "123.456", 123.456 },
        { "1.7976931348623157", 1.7976931348623157 },
        { "0.000000000000000000001", 1e-21 }, { "9007199254740993", 9007199254740992.0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double d = 0;
        ck_assert_msg(mxi_parse_decimal(rows[i].text, &d), "%s refused", rows[i].text);
        ck_assert_msg(d == rows[i].want, "%s read as %.17g", rows[i].text, d);
    }
    static const char *const bad[] = { "", "-", ".5", "5.", "1e5", "+1", " 1", "1 ", "1,5", "0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double d = 42;
        ck_assert_msg(!mxi_parse_decimal(bad[i], &d) && d == 42, "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(error_message_is_one_line_and_bounded)
{
    myappctx_error err;
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    mxi_error_set(&err, MYAPPCTX_ESERVER, "22012", "line one\nDETAIL: %s", big);
    ck_assert_str_eq(err.message, "line one");
    ck_assert_str_eq(err.sqlstate, "22012");
    mxi_error_set(&err, MYAPPCTX_ESERVER, NULL, "%s", big);
    ck_assert_uint_eq(strlen(err.message), MYAPPCTX_ERROR_MESSAGE_SIZE - 1);
    ck_assert_str_eq(err.sqlstate, "");
    ck_assert_int_eq(mxi_error_set(NULL, MYAPPCTX_EINVAL, NULL, "x"), MYAPPCTX_EINVAL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, text_accepts_valid_utf8);
    tcase_add_loop_test(tc, text_rejects_invalid_utf8, 0, (int)(sizeof bad_utf8 / sizeof bad_utf8[0]));
    tcase_add_test(tc, text_rejects_null_and_overlong);
    tcase_add_test(tc, decimal_is_correctly_rounded);
    tcase_add_test(tc, error_message_is_one_line_and_bounded);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
