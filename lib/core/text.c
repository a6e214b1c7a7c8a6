/* Argument validation done in C before any round trip. */
#include "config.h"

#include <string.h>

#include "core/core.h"

/* Returns the length of the valid UTF-8 prefix (== len when all valid).
 * Rejects overlong forms, surrogates and code points above U+10FFFF, as
 * PostgreSQL does. */
static size_t
utf8_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned int cp;
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
        else return i;
        if (i + n >= len)           /* truncated sequence */
            return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return i;
        i += n + 1;
    }
    return i;
}

int
mxi_text_check(const char *value, size_t max_len, bool allow_null,
               const char *argname, const char *what, myappctx_error *err)
{
    if (value == NULL) {
        if (allow_null)
            return MYAPPCTX_OK;
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is NULL", what, argname);
    }
    size_t len = strnlen(value, max_len + 1);
    if (len > max_len)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is longer than %zu bytes",
                             what, argname, max_len);
    size_t ok = utf8_valid_prefix((const unsigned char *)value, len);
    if (ok != len)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is not valid UTF-8 (byte %zu)",
                             what, argname, ok);
    return MYAPPCTX_OK;
}
