/* libFuzzer target: setting keys and configuration parameter names, which
 * decide what reaches set_config()/current_setting().
 * Properties: never crashes; whatever is accepted matches the documented
 * pattern under an independent check, and context names are never
 * accepted as setting keys. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int
is_ident(int c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static int
reference_key(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int
reference_config(const char *s)
{
    size_t n = strlen(s), parts = 0, i = 0;
    if (n == 0 || n > 63)
        return 0;
    while (i < n) {
        if (!is_ident_start((unsigned char)s[i]))
            return 0;
        while (i < n && is_ident((unsigned char)s[i]))
            i++;
        parts++;
        if (i < n) {
            if (s[i] != '.')
                return 0;
            i++;
            if (i == n)
                return 0;
        }
    }
    return parts <= 2;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    myappctx_error err;
    if (mxi_names_check_setting_key(s, "key", "fuzz", &err) == MYAPPCTX_OK &&
        !reference_key(s))
        __builtin_trap();
    if (mxi_names_check_config(s, "name", "fuzz", &err) == MYAPPCTX_OK) {
        if (!reference_config(s))
            __builtin_trap();
        if (mxi_names_is_context(s) && strncasecmp(s, "myapp.", 6) != 0)
            __builtin_trap();
    }
    free(s);
    return 0;
}
