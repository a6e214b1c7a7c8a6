/* Strict text-to-value parsing (see value_parse.h). */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "value_parse.h"

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

bool
mxi_parse_decimal(const char *text, double *out)
{
    if (text == NULL)
        return false;
    bool negative = *text == '-';
    if (negative)
        text++;
    double value = 0.0, scale = 1.0;
    size_t ndigits = 0;
    for (; *text >= '0' && *text <= '9'; text++, ndigits++)
        value = value * 10.0 + (*text - '0');
    if (ndigits == 0)
        return false;
    if (*text == '.') {
        text++;
        size_t nfrac = 0;
        for (; *text >= '0' && *text <= '9'; text++, nfrac++) {
            scale /= 10.0;
            value += (*text - '0') * scale;
        }
        if (nfrac == 0)
            return false;
    }
    if (*text != '\0')
        return false;
    *out = negative ? -value : value;
    return true;
}
