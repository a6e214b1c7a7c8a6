/* The tables of hostile inputs and sized strings (see testutil.h).  The
 * catalogue in tests/hostile/ runs every row against every target; the
 * integration suites use them for their round trips too. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

const tu_input tu_injection[] = {
    { "single quote",             "O'Brien" },
    { "only quotes",              "''" },
    { "double quotes",            "say \"hi\" and 'bye'" },
    { "SQL injection",            "'; DROP TABLE data.users; --" },
    { "SQL injection (no quote)", "1; DROP TABLE data.users" },
    { "tautology",                "' OR '1'='1" },
    { "comment",                  "*/ /* -- #" },
    { "dollar quote",             "$$; SELECT pg_sleep(10); $$" },
    { "placeholder $1",           "$1" },
    { "placeholders $1::uuid $2", "$1::uuid, $2" },
    { "backslashes",              "back\\slash \\' \\\\" },
    { "escape-string literal",    "E'\\x41\\047'" },
    { "\\x00-looking text",       "\\x00" },
    { "\\u0000-looking text",     "\\u0000" },
    { "\\0-looking text",         "\\0" },
    { "%00-looking text",         "%00" },
    { "format string",            "%s%n%x%p%%" },
    { "newline",                  "line one\nline two" },
    { "CR LF",                    "a\r\nb" },
    { "tab",                      "a\tb" },
    { "control characters",       "\x01\x02\x1b[31m\x1f\x7f" },
    { "leading and trailing space", "  padded  " },
    { "only spaces",              "   " },
    { "the word NULL",            "NULL" },
    { "JSON text",                "{\"role\":\"admin\",\"x\":[1,2]}" },
    { "comma list",               "a,b,current_user_id" },
    { "markup",                   "<script>alert(1)</script>" },
    { "latin-1 range",            "caf\xc3\xa9 \xc3\xbc\xc3\x9f" },
    { "CJK and euro",             "\xe4\xb8\xad\xe6\x96\x87 \xe2\x82\xac" },
    { "emoji",                    "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd" },
    { "right-to-left mark",       "abc\xe2\x80\x8f" "def" },
    { "byte order mark",          "\xef\xbb\xbfstart" },
    { "zero-width joiner",        "a\xe2\x80\x8d" "b" },
    /* Rows that came with test_context's and test_audit's own table. */
    { "doubled quotes",           "it''s \"double\" and 'single'" },
    { "SQL injection (statement)", "semi; DROP TABLE data.users; --" },
    { "mixed line ends and tab",  "multi\nline\r\nand\ttab" },
    { "placeholder and format",   "$1 %s %n %% {}" },
    { "2-, 3- and 4-byte characters", "caf\xc3\xa9 \xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80" },
    { "leading and trailing spaces", "  leading and trailing  " },
};
const size_t tu_injection_count = sizeof tu_injection / sizeof tu_injection[0];

const tu_input tu_utf8_edges[] = {
    { "U+0080 (first 2-byte)",   "\xc2\x80" },
    { "U+07FF (last 2-byte)",    "\xdf\xbf" },
    { "U+0800 (first 3-byte)",   "\xe0\xa0\x80" },
    { "U+D7FF (before surrogates)", "\xed\x9f\xbf" },
    { "U+E000 (after surrogates)", "\xee\x80\x80" },
    { "U+FFFD (replacement)",    "\xef\xbf\xbd" },
    { "U+FFFF (last 3-byte)",    "\xef\xbf\xbf" },
    { "U+10000 (first 4-byte)",  "\xf0\x90\x80\x80" },
    { "U+10FFFF (last code point)", "\xf4\x8f\xbf\xbf" },
};
const size_t tu_utf8_edges_count = sizeof tu_utf8_edges / sizeof tu_utf8_edges[0];

const tu_input tu_bad_utf8[] = {
    { "lone continuation 0x80",      "\x80" },
    { "lone continuation 0xBF",      "\xbf" },
    { "continuation inside ASCII",   "ok\x80ok" },
    { "truncated 2-byte at end",     "abc\xc3" },
    { "truncated 3-byte at end",     "abc\xe2\x82" },
    { "truncated 4-byte at end",     "abc\xf0\x9f\x98" },
    { "truncated 2-byte mid-string", "\xc3" "a" },
    { "truncated 3-byte mid-string", "\xe2\x82" "a" },
    { "overlong 2-byte '/' (C0 AF)", "\xc0\xaf" },
    { "overlong 2-byte (C1 BF)",     "\xc1\xbf" },
    { "overlong 3-byte '/'",         "\xe0\x80\xaf" },
    { "overlong 4-byte '/'",         "\xf0\x80\x80\xaf" },
    { "overlong NUL (C0 80)",        "a\xc0\x80" "b" },
    { "high surrogate U+D800",       "\xed\xa0\x80" },
    { "low surrogate U+DFFF",        "\xed\xbf\xbf" },
    { "CESU-8 surrogate pair",       "\xed\xa0\xbd\xed\xb8\x80" },
    { "U+110000 (above U+10FFFF)",   "\xf4\x90\x80\x80" },
    { "lead byte F5",                "\xf5\x80\x80\x80" },
    { "5-byte form",                 "\xf8\x88\x80\x80\x80" },
    { "6-byte form",                 "\xfc\x84\x80\x80\x80\x80" },
    { "byte FE",                     "\xfe" },
    { "byte FF",                     "\xff" },
    { "latin-1 e-acute",             "caf\xe9" },
};
const size_t tu_bad_utf8_count = sizeof tu_bad_utf8 / sizeof tu_bad_utf8[0];

char *
tu_repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

char *
tu_ending_in_e_acute(size_t n)
{
    ck_assert_uint_ge(n, 2);
    char *s = tu_repeat('a', n);
    s[n - 2] = '\xc3';
    s[n - 1] = '\xa9';
    return s;
}
