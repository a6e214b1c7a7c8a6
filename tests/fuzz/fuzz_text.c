/* libFuzzer target: the text validation every string argument goes through
 * (length bound and UTF-8 as PostgreSQL accepts it).
 * Properties: never crashes or reads past the bound; accepted text is within
 * the bound and decodes as UTF-8 under an independent, simple decoder. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Independent reference: decode code points and check the ranges. */
static int
reference_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp, len;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        unsigned min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max = data[0];                 /* first byte: the bound */
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    size_t len = strlen(s);
    myappctx_error err;
    int rc = mxi_text_check(s, max, false, "value", "fuzz", &err);
    int expect_ok = len <= max && reference_utf8((const unsigned char *)s, len);
    if ((rc == MYAPPCTX_OK) != expect_ok)
        __builtin_trap();
    free(s);
    return 0;
}
