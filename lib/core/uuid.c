/* Strict UUID parsing and formatting. */
#include "config.h"

#include <string.h>

#include "core/core.h"

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int
parse(myappctx_uuid *out, const char *text, size_t len, const char *what, myappctx_error *err)
{
    myappctx_uuid tmp;
    size_t nbyte = 0;

    if (out == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument 'out' is NULL", what);
    if (len != MYAPPCTX_UUID_STRLEN)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: expected %d characters, got %zu",
                             what, MYAPPCTX_UUID_STRLEN, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                                     "%s: expected '-' at position %zu", what, i);
            continue;
        }
        int hi = hexval(c);
        int lo = i + 1 < len ? hexval((unsigned char)text[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                                 "%s: invalid hex digit at position %zu", what,
                                 hi < 0 ? i : i + 1);
        tmp.bytes[nbyte++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    *out = tmp;
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_uuid_parsen(myappctx_uuid *out, const char *text, size_t len,
                     myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, text);
    return parse(out, text, len, __func__, err);
}

MYAPPCTX_API int
myappctx_uuid_parse(myappctx_uuid *out, const char *text, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, text);
    /* Bounded scan: an over-long string fails without reading all of it. */
    return parse(out, text, strnlen(text, MYAPPCTX_UUID_STRLEN + 1), __func__, err);
}

MYAPPCTX_API char *
myappctx_uuid_format(const myappctx_uuid *uuid, char buf[MYAPPCTX_UUID_BUFSIZE])
{
    static const char digits[] = "0123456789abcdef";
    size_t pos = 0;

    if (buf == NULL)
        return NULL;
    if (uuid == NULL) {
        buf[0] = '\0';
        return buf;
    }
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[pos++] = '-';
        buf[pos++] = digits[uuid->bytes[i] >> 4];
        buf[pos++] = digits[uuid->bytes[i] & 0x0f];
    }
    buf[pos] = '\0';
    return buf;
}

MYAPPCTX_API int
myappctx_uuid_equal(const myappctx_uuid *a, const myappctx_uuid *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

MYAPPCTX_API int
myappctx_uuid_is_nil(const myappctx_uuid *uuid)
{
    static const myappctx_uuid nil;
    return uuid != NULL && memcmp(uuid->bytes, nil.bytes, sizeof nil.bytes) == 0;
}
