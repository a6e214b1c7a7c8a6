/* Strict, locale-independent text-to-value parsing (see core.h). */
#include "config.h"

#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* True when text[0..len) is a prefix of @word at least @min bytes long. */
static bool
is_prefix_of(const char *text, size_t len, const char *word, size_t min)
{
    return len >= min && len <= strlen(word) && strncasecmp(text, word, len) == 0;
}

bool
mxi_parse_bool(const char *text, int *out)
{
    if (text == NULL)
        return false;
    while (is_space(*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && is_space(text[len - 1]))
        len--;

    /* The same words and minimum prefixes as PostgreSQL's parse_bool():
     * "o" alone is ambiguous between on and off. */
    if (is_prefix_of(text, len, "true", 1) || is_prefix_of(text, len, "yes", 1) ||
        is_prefix_of(text, len, "on", 2) || (len == 1 && text[0] == '1')) {
        *out = 1;
        return true;
    }
    if (is_prefix_of(text, len, "false", 1) || is_prefix_of(text, len, "no", 1) ||
        is_prefix_of(text, len, "off", 2) || (len == 1 && text[0] == '0')) {
        *out = 0;
        return true;
    }
    return false;
}

bool
mxi_parse_int64(const char *text, long long *out)
{
    if (text == NULL)
        return false;
    bool negative = *text == '-';
    if (*text == '-' || *text == '+')
        text++;
    if (*text == '\0')
        return false;
    /* Accumulate as a negative number: its range includes LLONG_MIN. */
    long long value = 0;
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9')
            return false;
        int digit = *text - '0';
        if (value < (LLONG_MIN + digit) / 10)
            return false;
        value = value * 10 - digit;
    }
    if (!negative) {
        if (value == LLONG_MIN)
            return false;
        value = -value;
    }
    *out = value;
    return true;
}

/* The C locale for strtod_l(): strtod() follows the host application's
 * LC_NUMERIC (a decimal comma would misread "1.5").  Made once, kept for the
 * life of the process. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* The syntax is checked here, strictly; the conversion is strtod_l()'s,
 * which rounds correctly (digit-by-digit accumulation does not). */
bool
mxi_parse_decimal(const char *text, double *out)
{
    if (text == NULL)
        return false;
    const char *p = text + (*text == '-');
    size_t ndigits = strspn(p, "0123456789");
    if (ndigits == 0)
        return false;
    p += ndigits;
    if (*p == '.') {
        size_t nfrac = strspn(++p, "0123456789");
        if (nfrac == 0)
            return false;
        p += nfrac;
    }
    if (*p != '\0')
        return false;
    pthread_once(&c_locale_once, make_c_locale);
    if (c_locale == (locale_t)0)
        return false;
    *out = strtod_l(text, NULL, c_locale);
    return true;
}
