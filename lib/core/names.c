/* Setting keys and configuration parameter names, checked in C before any
 * round trip (see core.h). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "core/context_vars.h"

/* A setting with one of these keys would be loaded over the context. */
#define NAME_STRING(name, kind) #name,
static const char *const context_names[] = { MXI_CONTEXT_VARS(NAME_STRING) };

static bool
is_context_name(const char *name, bool ignore_case)
{
    for (size_t i = 0; i < sizeof context_names / sizeof context_names[0]; i++) {
        int cmp = ignore_case ? strcasecmp(name, context_names[i])
                              : strcmp(name, context_names[i]);
        if (cmp == 0)
            return true;
    }
    return false;
}

/* Locale-independent character classes: isalpha() would follow the host
 * application's locale. */
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }

int
mxi_names_check_setting_key(const char *key, const char *argname, const char *what,
                      myappctx_error *err)
{
    if (key == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument '%s' is NULL",
                             what, argname);
    size_t len = strnlen(key, MYAPPCTX_SETTING_KEY_MAX + 1);
    bool ok = len >= 1 && len <= MYAPPCTX_SETTING_KEY_MAX && is_lower(key[0]);
    for (size_t i = 1; ok && i < len; i++)
        ok = is_lower(key[i]) || is_digit(key[i]) || key[i] == '_';
    if (!ok)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' must match ^[a-z][a-z0-9_]{0,62}$",
                             what, argname);
    if (is_context_name(key, false))
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is the reserved context variable name '%s'",
                             what, argname, key);
    return MYAPPCTX_OK;
}

/* Length of the identifier at @s ([A-Za-z_][A-Za-z0-9_]*), 0 if none. */
static size_t
identifier_length(const char *s)
{
    size_t n = 0;
    if (!is_alpha(s[0]) && s[0] != '_')
        return 0;
    while (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '_')
        n++;
    return n;
}

int
mxi_names_check_config(const char *name, const char *argname, const char *what,
                      myappctx_error *err)
{
    if (name == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "%s: argument '%s' is NULL",
                             what, argname);
    size_t len = strnlen(name, MYAPPCTX_CONFIG_NAME_MAX + 1);
    if (len > MYAPPCTX_CONFIG_NAME_MAX)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is longer than %d bytes",
                             what, argname, MYAPPCTX_CONFIG_NAME_MAX);
    size_t first = identifier_length(name);
    size_t end = first;
    if (first > 0 && name[first] == '.') {
        size_t second = identifier_length(name + first + 1);
        end = second > 0 ? first + 1 + second : 0;
    }
    if (first == 0 || end != len)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument '%s' is not a parameter name "
                             "(identifier or prefix.identifier)", what, argname);
    return MYAPPCTX_OK;
}

bool
mxi_names_is_custom(const char *name)
{
    return strchr(name, '.') != NULL;
}

bool
mxi_names_is_context(const char *name)
{
    return strncasecmp(name, "myapp.", 6) == 0 && is_context_name(name + 6, true);
}
