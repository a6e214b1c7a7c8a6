/* Finding context-reader calls in a deparsed row-level-security policy.
 *
 * A policy that calls private.get_current_tenant_id() bare runs it once per
 * row; written as (SELECT private.get_current_tenant_id()) it becomes an
 * InitPlan, run once per statement.  pg_get_expr() prints the two as
 *
 *     private.get_current_tenant_id()
 *     ( SELECT private.get_current_tenant_id() AS get_current_tenant_id)
 *
 * so a call is "per row" when no enclosing parenthesis opens a sub-select.
 * The scan tracks parentheses, skips string literals ('...', E'...') and
 * quoted identifiers, and matches a call only at an identifier boundary.
 * A call inside any sub-select counts as once per statement, which is what
 * the planner does for an uncorrelated one.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

const char *const cli_policy_scan_readers[] = {
    "get_current_user_id",
    "get_current_tenant_id",
    "get_current_role",
    "get_original_user_id",
    "is_impersonating",
    "get_audit_context",
    NULL
};

/* Deep enough for any policy a person writes; deeper parentheses are
 * still counted, only their kind is forgotten (treated as not a select). */
#define MAX_DEPTH 256

static int
is_ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '$' || c == '.' || (c & 0x80);
}

/* Length of the reader call starting at p ("private.name()" possibly with
 * blanks before the parentheses), or 0. */
static size_t
match_call(const char *p)
{
    static const char prefix[] = "private.";
    if (strncmp(p, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *name = p + sizeof prefix - 1;
    for (const char *const *r = cli_policy_scan_readers; *r != NULL; r++) {
        size_t n = strlen(*r);
        if (strncmp(name, *r, n) != 0)
            continue;
        const char *q = name + n;
        while (*q == ' ')
            q++;
        if (*q != '(')
            continue;
        q++;
        while (*q == ' ')
            q++;
        if (*q != ')')
            continue;
        return (size_t)(q + 1 - p);
    }
    return 0;
}

/* Non-zero if the text after an opening parenthesis starts a sub-select. */
static int
opens_select(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
    return strncasecmp(p, "SELECT", 6) == 0 && !is_ident_char((unsigned char)p[6]);
}

/* Index just past the literal or quoted identifier opening at s[i]. */
static size_t
skip_quoted(const char *s, size_t i, int backslash_escapes)
{
    char quote = s[i++];
    while (s[i] != '\0') {
        if (backslash_escapes && s[i] == '\\' && s[i + 1] != '\0') {
            i += 2;
            continue;
        }
        if (s[i] == quote) {
            if (s[i + 1] == quote) {      /* '' or "" inside */
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return i;
}

size_t
cli_policy_scan_calls(const char *expr, struct cli_policy_scan_call *out, size_t max)
{
    unsigned char kind[MAX_DEPTH];
    size_t depth = 0, selects = 0, found = 0;

    for (size_t i = 0; expr[i] != '\0';) {
        char c = expr[i];
        int boundary = i == 0 || !is_ident_char((unsigned char)expr[i - 1]);
        if (c == '\'') {
            int e = i > 0 && (expr[i - 1] == 'E' || expr[i - 1] == 'e') &&
                    (i == 1 || !is_ident_char((unsigned char)expr[i - 2]));
            i = skip_quoted(expr, i, e);
        } else if (c == '"') {
            i = skip_quoted(expr, i, 0);
        } else if (c == '(') {
            int sel = opens_select(expr + i + 1);
            if (depth < MAX_DEPTH)
                kind[depth] = (unsigned char)sel;
            depth++;
            selects += (size_t)sel;
            i++;
        } else if (c == ')') {
            if (depth > 0) {
                depth--;
                if (depth < MAX_DEPTH && kind[depth])
                    selects--;
            }
            i++;
        } else {
            size_t n = boundary ? match_call(expr + i) : 0;
            if (n > 0) {
                if (found < max) {
                    out[found].start = i;
                    out[found].end = i + n;
                    out[found].in_subquery = selects > 0;
                }
                found++;
                i += n;
            } else {
                i++;
            }
        }
    }
    return found;
}

char *
cli_policy_scan_wrap(const char *expr, size_t *changed)
{
    *changed = 0;
    size_t n = cli_policy_scan_calls(expr, NULL, 0);
    struct cli_policy_scan_call *calls = calloc(n > 0 ? n : 1, sizeof *calls);
    if (calls == NULL)
        return NULL;
    cli_policy_scan_calls(expr, calls, n);

    static const char open[] = "(SELECT ", close[] = ")";
    size_t len = strlen(expr);
    char *res = malloc(len + n * (sizeof open - 1 + sizeof close - 1) + 1);
    if (res == NULL) {
        free(calls);
        return NULL;
    }
    size_t from = 0, to = 0;
    for (size_t k = 0; k < n; k++) {
        if (calls[k].in_subquery)
            continue;
        memcpy(res + to, expr + from, calls[k].start - from);
        to += calls[k].start - from;
        memcpy(res + to, open, sizeof open - 1);
        to += sizeof open - 1;
        memcpy(res + to, expr + calls[k].start, calls[k].end - calls[k].start);
        to += calls[k].end - calls[k].start;
        memcpy(res + to, close, sizeof close - 1);
        to += sizeof close - 1;
        from = calls[k].end;
        (*changed)++;
    }
    memcpy(res + to, expr + from, len - from + 1);
    free(calls);
    return res;
}
