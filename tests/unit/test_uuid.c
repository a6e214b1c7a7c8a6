/* UUID parsing and formatting: strictness and round trips (no server). */
#include "config.h"

#include <string.h>

#include "testutil.h"

static const char *valid = "123e4567-e89b-12d3-a456-426614174000";

START_TEST(parse_valid_roundtrip)
{
    myappctx_uuid u;
    myappctx_error err;
    char buf[MYAPPCTX_UUID_BUFSIZE];
    tu_assert_ok(myappctx_uuid_parse(&u, valid, &err), err);
    ck_assert_str_eq(myappctx_uuid_format(&u, buf), valid);
    ck_assert_int_eq(u.bytes[0], 0x12);
    ck_assert_int_eq(u.bytes[15], 0x00);
}
END_TEST

START_TEST(parse_upper_case_formats_lower)
{
    myappctx_uuid u;
    char buf[MYAPPCTX_UUID_BUFSIZE];
    ck_assert_int_eq(myappctx_uuid_parse(&u, "ABCDEF01-2345-6789-ABCD-EF0123456789", NULL), 0);
    ck_assert_str_eq(myappctx_uuid_format(&u, buf), "abcdef01-2345-6789-abcd-ef0123456789");
}
END_TEST

static const char *const malformed[] = {
    "",                                          /* empty */
    "123e4567-e89b-12d3-a456-42661417400",       /* 35 chars */
    "123e4567-e89b-12d3-a456-4266141740000",     /* 37 chars */
    "{123e4567-e89b-12d3-a456-426614174000}",    /* braces */
    "123e4567e89b12d3a456426614174000",          /* no dashes */
    "123e4567-e89b-12d3-a456-42661417400g",      /* bad hex at end */
    "x23e4567-e89b-12d3-a456-426614174000",      /* bad hex at start */
    "123e4567_e89b-12d3-a456-426614174000",      /* wrong separator */
    "123e4567-e89b-12d3-a4564-26614174000",      /* dash misplaced */
    " 123e4567-e89b-12d3-a456-42661417400",      /* leading space */
    "123e4567-e89b-12d3-a456-426614174000 ",     /* trailing space */
    "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
    "123e4567-e89b-12d3-a456-4266141740\xc3\xa9", /* UTF-8 inside */
    "123e4567-e89b-12d3-a456-426614174000' OR '1'='1",
};

START_TEST(parse_malformed)
{
    myappctx_uuid u;
    memset(&u, 0xab, sizeof u);
    myappctx_uuid before = u;
    myappctx_error err;
    memset(&err, 0, sizeof err);
    int rc = myappctx_uuid_parse(&u, malformed[_i], &err);
    ck_assert_msg(rc == MYAPPCTX_EINVAL, "accepted malformed uuid #%d '%s'", _i, malformed[_i]);
    ck_assert_int_eq(err.code, MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "uuid") != NULL, "message: %s", err.message);
    ck_assert_msg(memcmp(&u, &before, sizeof u) == 0, "output touched on failure");
}
END_TEST

START_TEST(parsen_embedded_nul)
{
    char text[37];
    memcpy(text, valid, 36);
    text[10] = '\0';
    myappctx_uuid u;
    ck_assert_int_eq(myappctx_uuid_parsen(&u, text, 36, NULL), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_uuid_parsen(&u, valid, 36, NULL), MYAPPCTX_OK);
    /* Not NUL-terminated input of the right length is fine with parsen. */
    char exact[36];
    memcpy(exact, valid, 36);
    ck_assert_int_eq(myappctx_uuid_parsen(&u, exact, sizeof exact, NULL), MYAPPCTX_OK);
}
END_TEST

START_TEST(parse_overlong_is_bounded)
{
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', n);
    big[n] = '\0';
    myappctx_uuid u;
    myappctx_error err;
    ck_assert_int_eq(myappctx_uuid_parse(&u, big, &err), MYAPPCTX_EINVAL);
    ck_assert_msg(strstr(err.message, "37") != NULL, "reports the bounded length: %s", err.message);
    free(big);
}
END_TEST

START_TEST(null_arguments)
{
    myappctx_uuid u;
    myappctx_error err;
    ck_assert_int_eq(myappctx_uuid_parse(NULL, valid, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_uuid_parse(&u, NULL, &err), MYAPPCTX_EINVAL);
    ck_assert_int_eq(myappctx_uuid_parse(&u, NULL, NULL), MYAPPCTX_EINVAL);
    ck_assert_ptr_null(myappctx_uuid_format(&u, NULL));
    ck_assert_int_eq(myappctx_uuid_equal(NULL, NULL), 1);
    ck_assert_int_eq(myappctx_uuid_equal(&u, NULL), 0);
    ck_assert_int_eq(myappctx_uuid_is_nil(NULL), 0);
}
END_TEST

START_TEST(equal_and_nil)
{
    myappctx_uuid a, b, nil;
    memset(&nil, 0, sizeof nil);
    myappctx_uuid_parse(&a, valid, NULL);
    myappctx_uuid_parse(&b, "123e4567-e89b-12d3-a456-426614174001", NULL);
    ck_assert_int_eq(myappctx_uuid_equal(&a, &a), 1);
    ck_assert_int_eq(myappctx_uuid_equal(&a, &b), 0);
    ck_assert_int_eq(myappctx_uuid_is_nil(&nil), 1);
    ck_assert_int_eq(myappctx_uuid_is_nil(&a), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("uuid");
    tcase_add_test(tc, parse_valid_roundtrip);
    tcase_add_test(tc, parse_upper_case_formats_lower);
    tcase_add_loop_test(tc, parse_malformed, 0, (int)(sizeof malformed / sizeof malformed[0]));
    tcase_add_test(tc, parsen_embedded_nul);
    tcase_add_test(tc, parse_overlong_is_bounded);
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, equal_and_nil);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
