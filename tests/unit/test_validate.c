/* Internal validation helpers and SHA-256 (no server). */
#include "config.h"

#include <string.h>

#include "internal.h"
#include "../util.h"

START_TEST(text_accepts_valid_utf8)
{
    myappctx_error err;
    tu_assert_ok(mxi_check_text("plain", 10, false, "a", "t", &err), err);
    tu_assert_ok(mxi_check_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 64, false, "a", "t", &err), err);
    tu_assert_ok(mxi_check_text("", 0, false, "a", "t", &err), err);
    tu_assert_ok(mxi_check_text(NULL, 10, true, "a", "t", &err), err);
    tu_assert_ok(mxi_check_text("0123456789", 10, false, "a", "t", &err), err);
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
    int rc = mxi_check_text(bad_utf8[_i], 100, false, "value", "t", &err);
    ck_assert_msg(rc == MYAPPCTX_EINVAL, "accepted bad UTF-8 #%d", _i);
    ck_assert_msg(strstr(err.message, "'value'") != NULL, "names the argument: %s", err.message);
}
END_TEST

START_TEST(text_rejects_null_and_overlong)
{
    myappctx_error err;
    ck_assert_int_eq(mxi_check_text(NULL, 10, false, "key", "t", &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "'key' is NULL") != NULL, "%s", err.message);
    ck_assert_int_eq(mxi_check_text("01234567890", 10, false, "key", "t", &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "longer than 10") != NULL, "%s", err.message);
}
END_TEST

START_TEST(sha256_vectors)
{
    char out[65];
    mxi_sha256_hex("", 0, out);
    ck_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    mxi_sha256_hex("abc", 3, out);
    ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    mxi_sha256_hex(two, strlen(two), out);
    ck_assert_str_eq(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char million[1000];
    memset(million, 'a', sizeof million);
    mxi_sha256_hex(million, 1000, out);
    ck_assert_str_eq(out, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
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
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, error_message_is_one_line_and_bounded);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
