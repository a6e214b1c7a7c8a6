/* myappctx doctor: audits a deployment against the rules libmyappctx relies
 * on (README "Guarantees", docs/conventions.md "SQL") and prints each
 * finding with its fix.
 *
 * Every query reads the catalogs, in one read-only REPEATABLE READ
 * transaction (one snapshot) with search_path = pg_catalog, so that the
 * names the server prints -- regprocedure, pg_get_expr() -- come out
 * schema-qualified.  The role name, the schema list and the patterns are
 * bound parameters; identifiers in the output are quoted by the server
 * (format('%I'), quote_ident(), regprocedure), so a printed fix can be
 * pasted into psql as it is.
 *
 * Severities: "error" and "warning" make the exit status 1; a "note" is
 * information (the role doctor itself runs as) and leaves it 0.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

struct doctor {
    struct cli_session s;
    const struct cli_doctor_options *opts;
    json_t *findings;          /* array of finding objects, in check order */
    char *schemas_json;        /* the -n list as a JSON array, or NULL */
    char *readers_json;        /* cli_policy_scan_readers as a JSON array */
    char *readers_regex;       /* a call of one of them in a function body */
    char app_role_ident[256];  /* the role name quoted as an identifier */
    int status;                /* exit status if a query fails, else 0 */
};

/* ------------------------------------------------------------ the SQL */

/* Where the table checks look: the -n list, or every non-system schema
 * (schema names starting with pg_ are reserved for the system). */
#define ANY_SCHEMA "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
#define IN_SCHEMAS(param)                                                      \
    "(CASE WHEN " param "::jsonb IS NULL THEN " ANY_SCHEMA                     \
    " ELSE n.nspname IN (SELECT jsonb_array_elements_text(" param "::jsonb)) END)"
/* Objects that belong to an extension (pgTAP, ...) are the extension's. */
#define NOT_IN_EXTENSION(catalog, oid)                                         \
    "NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.classid = '" catalog     \
    "'::regclass AND d.objid = " oid " AND d.deptype = 'e')"

static const char SQL_BEGIN[] =
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
static const char SQL_SEARCH_PATH[] =
    "SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)";

static const char SQL_DATABASE[] =
    "SELECT quote_ident(current_database()), quote_ident($1::text), current_database()";

static const char SQL_MISSING_SCHEMAS[] =
    "SELECT quote_ident(s) FROM jsonb_array_elements_text($1::jsonb) AS s "
    "WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s)";

static const char SQL_APP_ROLE[] =
    "SELECT r.oid IS NOT NULL, r.rolsuper, r.rolbypassrls "
    "FROM (SELECT 1) AS one LEFT JOIN pg_roles AS r ON r.rolname = $1::text";

static const char SQL_SESSION_USER[] =
    "SELECT quote_ident(r.rolname), r.rolsuper, r.rolbypassrls "
    "FROM pg_roles AS r WHERE r.rolname = session_user AND r.rolname <> $1::text";

/* Tables the app role owns, directly or as a member of the owning role:
 * with INHERIT it has the owner's privileges and PostgreSQL treats it as
 * the owner (which bypasses row-level security unless FORCE is set);
 * without, SET ROLE makes it the owner.  pg_has_role(..., 'MEMBER') covers
 * both.  A superuser app role is reported as such instead.  The suggested
 * new owner is the schema's owner, or the current user, when the app role
 * is not a member of that role too. */
static const char SQL_OWNED_TABLES[] =
    "SELECT format('%I.%I', n.nspname, c.relname), c.relrowsecurity, c.relforcerowsecurity, "
    "       c.relowner = r.oid, quote_ident(pg_get_userbyid(c.relowner)), "
    "       CASE WHEN NOT pg_has_role(r.oid, n.nspowner, 'MEMBER') "
    "            THEN quote_ident(pg_get_userbyid(n.nspowner)) "
    "            WHEN NOT pg_has_role(r.oid, current_user, 'MEMBER') "
    "            THEN quote_ident(current_user) END "
    "FROM pg_class AS c "
    "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "JOIN pg_roles AS r ON r.rolname = $1::text "
    "WHERE c.relkind IN ('r', 'p') AND NOT r.rolsuper "
    "  AND pg_has_role(r.oid, c.relowner, 'MEMBER') "
    "  AND " IN_SCHEMAS("$2") " AND " NOT_IN_EXTENSION("pg_class", "c.oid") " "
    "ORDER BY n.nspname, c.relname";

static const char SQL_RLS_WITHOUT_POLICY[] =
    "SELECT format('%I.%I', n.nspname, c.relname), "
    "       EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = c.oid "
    "               AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped) "
    "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity "
    "  AND NOT EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid) "
    "  AND " IN_SCHEMAS("$1") " AND " NOT_IN_EXTENSION("pg_class", "c.oid") " "
    "ORDER BY n.nspname, c.relname";

static const char SQL_POLICIES_WITHOUT_RLS[] =
    "SELECT format('%I.%I', n.nspname, c.relname), count(*) "
    "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "JOIN pg_policy AS p ON p.polrelid = c.oid "
    "WHERE NOT c.relrowsecurity "
    "  AND " IN_SCHEMAS("$1") " AND " NOT_IN_EXTENSION("pg_class", "c.oid") " "
    "GROUP BY n.nspname, c.relname ORDER BY n.nspname, c.relname";

static const char SQL_POLICY_EXPRESSIONS[] =
    "SELECT format('%I', p.polname), format('%I.%I', n.nspname, c.relname), "
    "       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) "
    "FROM pg_policy AS p JOIN pg_class AS c ON c.oid = p.polrelid "
    "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "WHERE " IN_SCHEMAS("$1") " AND " NOT_IN_EXTENSION("pg_class", "c.oid") " "
    "ORDER BY n.nspname, c.relname, p.polname";

/* The value of a pinned search_path, as SET stores it ("a, b, pg_temp"). */
static const char SQL_SECURITY_DEFINER[] =
    "SELECT p.oid::regprocedure::text, p.prokind = 'p', s.path, "
    "       s.path ~ '(^|,)\\s*\"?pg_temp\"?\\s*(,|$)' "
    "FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
    "LEFT JOIN LATERAL (SELECT substr(cfg, 13) AS path FROM unnest(p.proconfig) AS cfg "
    "                   WHERE cfg LIKE 'search\\_path=%' LIMIT 1) AS s ON true "
    "WHERE p.prosecdef AND " ANY_SCHEMA " AND " NOT_IN_EXTENSION("pg_proc", "p.oid") " "
    "ORDER BY n.nspname, p.proname, 1";

/* The readers themselves, and any function that reads the context -- a
 * current_setting('myapp.…') or a call of a reader in its body -- declared
 * IMMUTABLE. */
static const char SQL_IMMUTABLE_READERS[] =
    "SELECT p.oid::regprocedure::text, "
    "       n.nspname = 'private' AND p.proname IN (SELECT jsonb_array_elements_text($1::jsonb)) "
    "FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
    "WHERE p.provolatile = 'i' AND " ANY_SCHEMA " AND " NOT_IN_EXTENSION("pg_proc", "p.oid") " "
    "  AND ((n.nspname = 'private' AND p.proname IN (SELECT jsonb_array_elements_text($1::jsonb))) "
    "       OR p.prosrc ~* 'current_setting\\s*\\(\\s*''myapp\\.' "
    "       OR p.prosrc ~* $2::text) "
    "ORDER BY n.nspname, p.proname, 1";

/* ------------------------------------------------------------ helpers */

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *
format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

/* Adds one finding: SEVERITY "error", "warning" or "note"; CHECK its
 * stable name; the object as the server quoted it; PROBLEM (without the
 * object); FIX, a statement to run or a sentence. */
static void
add(struct doctor *d, const char *severity, const char *check, const char *object_type,
    const char *object, const char *problem, const char *fix)
{
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                          "severity", severity, "check", check,
                          "object_type", object_type, "object", object,
                          "problem", problem, "fix", fix);
    if (f == NULL || json_array_append_new(d->findings, f) != 0) {
        fputs("myappctx: doctor: out of memory\n", stderr);
        exit(EXIT_FAILURE);
    }
}

/* add() for texts built with format(); frees them. */
static void
add_owned(struct doctor *d, const char *severity, const char *check, const char *object_type,
          const char *object, char *problem, char *fix)
{
    if (problem == NULL || fix == NULL) {
        fputs("myappctx: doctor: out of memory\n", stderr);
        exit(EXIT_FAILURE);
    }
    add(d, severity, check, object_type, object, problem, fix);
    free(problem);
    free(fix);
}

/* Runs one catalog query; on failure records the exit status, prints the
 * error and returns NULL (the caller stops). */
static PGresult *
query(struct doctor *d, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    myappctx_error err;
    if (d->status != 0)
        return NULL;
    if (myappctx_exec(d->s.conn, sql, nparams, params, &res, &err) != MYAPPCTX_OK) {
        d->status = cli_connect_fail("doctor", &err);
        return NULL;
    }
    return res;
}

static int
is_true(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

/* A word for the shell: as it is when safe, else in single quotes. */
static char *
shell_word(const char *s)
{
    if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_.-") == strlen(s))
        return format("%s", s);
    size_t n = 2;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *w = malloc(n + 1), *o = w;
    if (w == NULL)
        return NULL;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return w;
}

/* ------------------------------------------------------------ the checks */

static void
check_schema_version(struct doctor *d, const char *database)
{
    myappctx_schema_status st;
    myappctx_error err;
    memset(&st, 0, sizeof st);
    char *role = shell_word(d->opts->app_role);
    if (role == NULL)
        return;
    if (myappctx_schema_status_get(d->s.conn, &st, &err) != MYAPPCTX_OK) {
        if (err.code == MYAPPCTX_ECONNECT) {
            d->status = cli_connect_fail("doctor", &err);
        } else {
            add_owned(d, "warning", "schema-version-unreadable", "database", database,
                      format("cannot read the installed schema version: %s", err.message),
                      format("Run myappctx doctor as the owner of schema myappctx or as a superuser."));
        }
    } else if (st.installed_version == 0) {
        add_owned(d, "error", "schema-not-installed", "database", database,
                  format("the libmyappctx schema is not installed (this library carries version %d)",
                         st.available_version),
                  format("myappctx schema install --app-role=%s", role));
    } else if (st.installed_version < st.available_version) {
        add_owned(d, "error", "schema-outdated", "database", database,
                  format("schema version %d is older than this library's %d: "
                         "myappctx_schema_check() refuses it", st.installed_version,
                         st.available_version),
                  format("myappctx schema install --app-role=%s", role));
    } else if (st.installed_version > st.available_version) {
        add_owned(d, "warning", "schema-newer", "database", database,
                  format("schema version %d is newer than this library's %d",
                         st.installed_version, st.available_version),
                  format("Upgrade libmyappctx (and this tool) to the release that carries "
                         "schema version %d.", st.installed_version));
    }
    if (d->status == 0 && st.demo_installed > 0 && st.demo_installed < st.demo_available)
        add_owned(d, "warning", "demo-outdated", "database", database,
                  format("demo objects version %d are older than this library's %d",
                         st.demo_installed, st.demo_available),
                  format("myappctx schema install --app-role=%s --demo", role));
    free(role);
}

/* Returns 1 if the app role exists and is not a superuser (so that the
 * ownership checks mean something). */
static int
check_app_role(struct doctor *d)
{
    const char *role = d->app_role_ident;
    const char *p[] = { d->opts->app_role };
    PGresult *res = query(d, SQL_APP_ROLE, 1, p);
    if (res == NULL)
        return 0;
    int exists = is_true(res, 0, 0), super = is_true(res, 0, 1), bypass = is_true(res, 0, 2);
    PQclear(res);
    if (!exists) {
        char *word = shell_word(d->opts->app_role);
        add_owned(d, "error", "app-role-missing", "role", role,
                  format("the application role does not exist"),
                  format("myappctx schema install --app-role=%s   (or name the role the "
                         "application connects as with --app-role)", word ? word : "?"));
        free(word);
        return 0;
    }
    if (super)
        add_owned(d, "error", "app-role-superuser", "role", role,
                  format("is a superuser: it bypasses row-level security and every privilege check"),
                  format("ALTER ROLE %s NOSUPERUSER;", role));
    if (bypass)
        add_owned(d, "error", "app-role-bypassrls", "role", role,
                  format("has BYPASSRLS: row-level security does not apply to it"),
                  format("ALTER ROLE %s NOBYPASSRLS;", role));
    return !super;
}

static void
check_session_user(struct doctor *d)
{
    const char *p[] = { d->opts->app_role };
    PGresult *res = query(d, SQL_SESSION_USER, 1, p);
    if (res == NULL)
        return;
    if (PQntuples(res) == 1 && (is_true(res, 0, 1) || is_true(res, 0, 2))) {
        const char *who = PQgetvalue(res, 0, 0);
        add_owned(d, "note", "session-user-bypasses-rls", "role", who,
                  format("this session's role %s: fine for running doctor, "
                         "but an application connecting as it would bypass row-level security",
                         is_true(res, 0, 1) ? "is a superuser" : "has BYPASSRLS"),
                  format("Connect the application as %s, not as %s.", d->app_role_ident, who));
    }
    PQclear(res);
}

static void
check_owned_tables(struct doctor *d)
{
    const char *p[] = { d->opts->app_role, d->schemas_json };
    PGresult *res = query(d, SQL_OWNED_TABLES, 2, p);
    if (res == NULL)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *table = PQgetvalue(res, i, 0);
        int rls = is_true(res, i, 1), forced = is_true(res, i, 2), direct = is_true(res, i, 3);
        const char *owner = PQgetvalue(res, i, 4);
        const char *new_owner = PQgetisnull(res, i, 5) ? "<an administrative role>"
                                                       : PQgetvalue(res, i, 5);
        char *whose = direct ? format("the application role %s", d->app_role_ident)
                             : format("%s, of which the application role %s is a member",
                                      owner, d->app_role_ident);
        if (whose == NULL)
            break;
        if (rls && !forced)
            add_owned(d, "error", "rls-not-forced", "table", table,
                      format("has row-level security enabled, but its owner (%s) bypasses it: "
                             "FORCE ROW LEVEL SECURITY is not set", whose),
                      format("ALTER TABLE %s FORCE ROW LEVEL SECURITY;", table));
        add_owned(d, "warning", "app-role-owns-table", "table", table,
                  format("is owned by %s: an owner can disable row-level security, "
                         "and alter or drop the table", whose),
                  format("ALTER TABLE %s OWNER TO %s;", table, new_owner));
        free(whose);
    }
    PQclear(res);
}

static void
check_rls_policies(struct doctor *d)
{
    const char *p[] = { d->schemas_json };
    PGresult *res = query(d, SQL_RLS_WITHOUT_POLICY, 1, p);
    if (res == NULL)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *table = PQgetvalue(res, i, 0);
        add_owned(d, "warning", "rls-no-policy", "table", table,
                  format("has row-level security enabled but no policy: every role that "
                         "does not bypass it reads no rows and can write none"),
                  is_true(res, i, 1)
                      ? format("CREATE POLICY tenant_isolation ON %s USING "
                               "(tenant_id = (SELECT private.get_current_tenant_id()));", table)
                      : format("Create the policies the table needs (CREATE POLICY ... ON %s), "
                               "or ALTER TABLE %s DISABLE ROW LEVEL SECURITY; if it is not "
                               "meant to be filtered.", table, table));
    }
    PQclear(res);

    res = query(d, SQL_POLICIES_WITHOUT_RLS, 1, p);
    if (res == NULL)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *table = PQgetvalue(res, i, 0), *n = PQgetvalue(res, i, 1);
        add_owned(d, "warning", "rls-disabled-with-policies", "table", table,
                  format("has %s polic%s but row-level security is not enabled: "
                         "the policies are ignored", n, strcmp(n, "1") == 0 ? "y" : "ies"),
                  format("ALTER TABLE %s ENABLE ROW LEVEL SECURITY;", table));
    }
    PQclear(res);
}

/* An expression for USING (...)/WITH CHECK (...): pg_get_expr() already
 * parenthesises most, but not a bare function call. */
static char *
clause(const char *keyword, const char *expr)
{
    size_t n = strlen(expr);
    int wrapped = n >= 2 && expr[0] == '(' && expr[n - 1] == ')';
    if (wrapped) {
        /* "(a) AND (b)" starts and ends with parentheses that do not match.
         * The deparser doubles quotes inside literals and identifiers (also
         * in E'' literals, where it doubles backslashes), so skipping from
         * quote to quote is exact. */
        int depth = 0;
        for (size_t i = 0; i < n && wrapped; i++) {
            if (expr[i] == '\'' || expr[i] == '"') {
                char q = expr[i];
                while (++i < n && expr[i] != q)
                    ;
                continue;
            }
            depth += expr[i] == '(' ? 1 : expr[i] == ')' ? -1 : 0;
            if (depth == 0 && i < n - 1)
                wrapped = 0;
        }
    }
    return wrapped ? format(" %s %s", keyword, expr) : format(" %s (%s)", keyword, expr);
}

static void
check_policy_readers(struct doctor *d)
{
    const char *p[] = { d->schemas_json };
    PGresult *res = query(d, SQL_POLICY_EXPRESSIONS, 1, p);
    if (res == NULL)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *policy = PQgetvalue(res, i, 0), *table = PQgetvalue(res, i, 1);
        const char *expr[2] = { PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
                                PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3) };
        static const char *const keyword[2] = { "USING", "WITH CHECK" };
        char *fixed[2] = { NULL, NULL };
        size_t bare = 0;
        char names[256] = "";
        for (int k = 0; k < 2; k++) {
            if (expr[k] == NULL)
                continue;
            struct cli_policy_scan_call calls[16];
            size_t n = cli_policy_scan_calls(expr[k], calls, 16);
            for (size_t c = 0; c < n && c < 16; c++) {
                if (calls[c].in_subquery)
                    continue;
                char call[96];
                snprintf(call, sizeof call, "%.*s", (int)(calls[c].end - calls[c].start),
                         expr[k] + calls[c].start);
                if (strstr(names, call) == NULL && strlen(names) + strlen(call) + 3 < sizeof names)
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                             names[0] ? ", " : "", call);
            }
            size_t changed;
            char *w = cli_policy_scan_wrap(expr[k], &changed);
            if (w != NULL && changed > 0) {
                fixed[k] = clause(keyword[k], w);
                bare += changed;
            }
            free(w);
        }
        if (bare > 0) {
            char *object = format("%s ON %s", policy, table);
            if (object != NULL)
                add_owned(d, "warning", "policy-reader-per-row", "policy", object,
                          format("calls %s for every row; written as (SELECT ...) it runs "
                                 "once per statement", names),
                          format("ALTER POLICY %s ON %s%s%s;", policy, table,
                                 fixed[0] ? fixed[0] : "", fixed[1] ? fixed[1] : ""));
            free(object);
        }
        free(fixed[0]);
        free(fixed[1]);
    }
    PQclear(res);
}

static void
check_security_definer(struct doctor *d)
{
    PGresult *res = query(d, SQL_SECURITY_DEFINER, 0, NULL);
    if (res == NULL)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *fn = PQgetvalue(res, i, 0);
        const char *kind = is_true(res, i, 1) ? "PROCEDURE" : "FUNCTION";
        if (PQgetisnull(res, i, 2)) {
            add_owned(d, "error", "secdef-no-search-path", "function", fn,
                      format("is SECURITY DEFINER without a pinned search_path: a caller can "
                             "put objects of their own ahead of the ones it means, and they "
                             "run with its owner's rights"),
                      format("ALTER %s %s SET search_path = pg_catalog, pg_temp;", kind, fn));
        } else if (!is_true(res, i, 3)) {
            const char *path = PQgetvalue(res, i, 2);
            int empty = strcmp(path, "\"\"") == 0 || path[0] == '\0';
            add_owned(d, "warning", "secdef-search-path-pg-temp", "function", fn,
                      format("is SECURITY DEFINER with search_path = %s, which does not list "
                             "pg_temp: temporary tables are then searched first", path),
                      format("ALTER %s %s SET search_path = %s%spg_temp;", kind, fn,
                             empty ? "" : path, empty ? "" : ", "));
        }
    }
    PQclear(res);
}

static void
check_immutable_readers(struct doctor *d)
{
    const char *p[] = { d->readers_json, d->readers_regex };
    PGresult *res = query(d, SQL_IMMUTABLE_READERS, 2, p);
    if (res == NULL)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *fn = PQgetvalue(res, i, 0);
        add_owned(d, "error", "reader-immutable", "function", fn,
                  format("%s but is declared IMMUTABLE: the planner may fold it into a "
                         "cached plan, which then keeps an old user or tenant",
                         is_true(res, i, 1) ? "is a context reader" : "reads the context (myapp.*)"),
                  format("ALTER FUNCTION %s STABLE;", fn));
    }
    PQclear(res);
}

/* ------------------------------------------------------------ output */

static void
count(const json_t *findings, int *errors, int *warnings, int *notes)
{
    size_t i;
    json_t *f;
    *errors = *warnings = *notes = 0;
    json_array_foreach(findings, i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        if (strcmp(sev, "error") == 0)
            (*errors)++;
        else if (strcmp(sev, "warning") == 0)
            (*warnings)++;
        else
            (*notes)++;
    }
}

static void
print_text(const struct doctor *d, const char *database)
{
    size_t i;
    json_t *f;
    int errors, warnings, notes;
    json_array_foreach(d->findings, i, f) {
        printf("%s: %s %s: %s [%s]\n  fix: %s\n",
               json_string_value(json_object_get(f, "severity")),
               json_string_value(json_object_get(f, "object_type")),
               json_string_value(json_object_get(f, "object")),
               json_string_value(json_object_get(f, "problem")),
               json_string_value(json_object_get(f, "check")),
               json_string_value(json_object_get(f, "fix")));
    }
    count(d->findings, &errors, &warnings, &notes);
    printf("%sdatabase %s, application role %s, ", json_array_size(d->findings) ? "\n" : "",
           database, d->app_role_ident);
    if (d->opts->schemas == NULL) {
        printf("all schemas: ");
    } else {
        printf("schema%s", d->opts->nschemas == 1 ? "" : "s");
        for (size_t k = 0; k < d->opts->nschemas; k++)
            printf("%s %s", k ? "," : "", d->opts->schemas[k]);
        printf(": ");
    }
    if (errors + warnings == 0)
        printf("no problems found");
    else
        printf("%d error%s, %d warning%s", errors, errors == 1 ? "" : "s",
               warnings, warnings == 1 ? "" : "s");
    if (notes > 0)
        printf(" (%d note%s)", notes, notes == 1 ? "" : "s");
    printf("\n");
}

static int
print_json(const struct doctor *d, const char *database)
{
    int errors, warnings, notes;
    count(d->findings, &errors, &warnings, &notes);
    json_t *schemas = json_null();
    if (d->opts->schemas != NULL) {
        schemas = json_array();
        for (size_t i = 0; i < d->opts->nschemas; i++)
            json_array_append_new(schemas, json_string(d->opts->schemas[i]));
    }
    json_t *doc = json_pack("{s:s, s:s, s:o, s:O, s:{s:i, s:i, s:i}}",
                            "database", database, "app_role", d->opts->app_role,
                            "schemas", schemas, "findings", d->findings,
                            "summary", "errors", errors, "warnings", warnings, "notes", notes);
    if (doc == NULL)
        return -1;
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    putchar('\n');
    return rc;
}

/* ------------------------------------------------------------ driver */

static int
prepare(struct doctor *d)
{
    json_t *readers = json_array();
    size_t len = 64;
    for (const char *const *r = cli_policy_scan_readers; *r != NULL; r++) {
        json_array_append_new(readers, json_string(*r));
        len += strlen(*r) + 1;
    }
    d->readers_json = json_dumps(readers, JSON_COMPACT);
    json_decref(readers);

    /* \mprivate\s*\.\s*(a|b|...)\s*\(  -- a call in a function body */
    d->readers_regex = malloc(len);
    if (d->readers_regex == NULL || d->readers_json == NULL)
        return -1;
    strcpy(d->readers_regex, "\\mprivate\\s*\\.\\s*(");
    for (const char *const *r = cli_policy_scan_readers; *r != NULL; r++) {
        if (r != cli_policy_scan_readers)
            strcat(d->readers_regex, "|");
        strcat(d->readers_regex, *r);
    }
    strcat(d->readers_regex, ")\\s*\\(");

    if (d->opts->schemas != NULL) {
        json_t *a = json_array();
        for (size_t i = 0; i < d->opts->nschemas; i++)
            json_array_append_new(a, json_string(d->opts->schemas[i]));
        d->schemas_json = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        if (d->schemas_json == NULL)
            return -1;
    }
    d->findings = json_array();
    return d->findings != NULL ? 0 : -1;
}

int
cli_doctor_run(const struct cli_conn_options *conn, const struct cli_doctor_options *opts)
{
    struct doctor d;
    memset(&d, 0, sizeof d);
    d.opts = opts;
    if (prepare(&d) != 0) {
        fputs("myappctx: doctor: out of memory\n", stderr);
        return EXIT_FAILURE;
    }
    int rc = cli_connect_open(&d.s, conn);
    if (rc != EXIT_SUCCESS)
        goto out;

    char database[256] = "", dbname[256] = "";
    const char *p[] = { opts->app_role };
    PGresult *res = query(&d, SQL_DATABASE, 1, p);
    if (res != NULL) {
        snprintf(database, sizeof database, "%s", PQgetvalue(res, 0, 0));
        snprintf(d.app_role_ident, sizeof d.app_role_ident, "%s", PQgetvalue(res, 0, 1));
        snprintf(dbname, sizeof dbname, "%s", PQgetvalue(res, 0, 2));
        PQclear(res);
    }

    /* Outside the transaction: a failure to read it must not abort the rest. */
    if (d.status == 0)
        check_schema_version(&d, database);

    PGresult *r1 = query(&d, SQL_BEGIN, 0, NULL);
    PQclear(r1);
    PGresult *r2 = query(&d, SQL_SEARCH_PATH, 0, NULL);
    PQclear(r2);

    if (d.schemas_json != NULL && d.status == 0) {
        const char *sp[] = { d.schemas_json };
        res = query(&d, SQL_MISSING_SCHEMAS, 1, sp);
        if (res != NULL && PQntuples(res) > 0) {
            for (int i = 0; i < PQntuples(res); i++)
                fprintf(stderr, "myappctx: doctor: schema %s does not exist\n", PQgetvalue(res, i, 0));
            d.status = EXIT_FAILURE;
        }
        PQclear(res);
    }

    if (d.status == 0) {
        int owner_checks = check_app_role(&d);
        check_session_user(&d);
        if (owner_checks)
            check_owned_tables(&d);
        check_rls_policies(&d);
        check_policy_readers(&d);
        check_security_definer(&d);
        check_immutable_readers(&d);
    }
    if (d.s.pg != NULL && PQstatus(d.s.pg) == CONNECTION_OK)
        myappctx_rollback(d.s.conn, NULL);

    if (d.status != 0) {
        rc = d.status;
        goto out;
    }
    if (opts->json ? print_json(&d, dbname) != 0 : (print_text(&d, database), 0)) {
        rc = EXIT_FAILURE;
        goto out;
    }
    int errors, warnings, notes;
    count(d.findings, &errors, &warnings, &notes);
    rc = errors + warnings > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
    if (fflush(stdout) != 0)
        rc = EXIT_FAILURE;

out:
    cli_connect_close(&d.s);
    json_decref(d.findings);
    free(d.schemas_json);
    free(d.readers_json);
    free(d.readers_regex);
    return rc;
}
