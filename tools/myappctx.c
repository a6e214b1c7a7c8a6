/* myappctx: command-line front end of libmyappctx (see myappctx(1)).
 *
 *   myappctx [OPTION]... schema install [--app-role=NAME] [--no-create-role] [--demo]
 *   myappctx [OPTION]... schema status [--json]
 *   myappctx [OPTION]... schema sql [--demo]
 *   myappctx [OPTION]... doctor [--app-role=NAME] [-n SCHEMA]... [--json]
 *
 * Options may come before or after the command words, as with psql.  The
 * connection options are psql's: -h HOST, -p PORT, -U USER, -d DBNAME
 * (a database name, or a connection string or URI); what they leave out
 * comes from the PG* environment and libpq's defaults.  -? / --help prints
 * help (for the command given, if any); -h is the host, as in psql.
 *
 * Exit status: 0 success; 1 failure reported by the library or the server
 * (doctor: findings); 2 usage error; 3 cannot connect; 4 schema not
 * installed or out of date (status).
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

enum command { CMD_NONE, CMD_SCHEMA, CMD_INSTALL, CMD_STATUS, CMD_SQL, CMD_DOCTOR };

static const char *const command_name[] = {
    [CMD_NONE] = "", [CMD_SCHEMA] = "schema", [CMD_INSTALL] = "schema install",
    [CMD_STATUS] = "schema status", [CMD_SQL] = "schema sql", [CMD_DOCTOR] = "doctor",
};

/* Long-only options get values above any character. */
enum { OPT_HELP = 256, OPT_APP_ROLE, OPT_NO_CREATE_ROLE, OPT_DEMO, OPT_JSON };

/* Which commands accept an option (bit = 1 << command); the connection
 * options, --help and --version go with every command. */
#define FOR(c) (1u << (c))
#define ALL_COMMANDS (~0u)

static const struct option long_options[] = {
    { "host", required_argument, NULL, 'h' },
    { "port", required_argument, NULL, 'p' },
    { "username", required_argument, NULL, 'U' },
    { "dbname", required_argument, NULL, 'd' },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, 'V' },
    { "app-role", required_argument, NULL, OPT_APP_ROLE },
    { "no-create-role", no_argument, NULL, OPT_NO_CREATE_ROLE },
    { "demo", no_argument, NULL, OPT_DEMO },
    { "json", no_argument, NULL, OPT_JSON },
    { "schema", required_argument, NULL, 'n' },
    { NULL, 0, NULL, 0 }
};

/* '-' first: non-options come back in order as argument 1, so options may
 * follow the command words whatever POSIXLY_CORRECT says; ':' next: the
 * tool prints its own messages.  '?' is not listed: getopt reports "-?" as
 * an unknown option with optopt == '?', which is how help is told apart
 * from a real error. */
static const char short_options[] = "-:h:p:U:d:n:V";

static const struct {
    int val;
    const char *name;
    unsigned commands;
} option_scope[] = {
    { OPT_APP_ROLE, "--app-role", FOR(CMD_INSTALL) | FOR(CMD_DOCTOR) },
    { OPT_NO_CREATE_ROLE, "--no-create-role", FOR(CMD_INSTALL) },
    { OPT_DEMO, "--demo", FOR(CMD_INSTALL) | FOR(CMD_SQL) },
    { OPT_JSON, "--json", FOR(CMD_STATUS) | FOR(CMD_DOCTOR) },
    { 'n', "-n/--schema", FOR(CMD_DOCTOR) },
};

struct args {
    struct cli_conn_options conn;
    const char *app_role;
    int no_create_role, demo, json;
    const char **schemas;
    size_t nschemas;
    int help, version;
    char given[OPT_JSON + 1];          /* options seen, by getopt value */
    const char *words[8];
    size_t nwords;
};

/* ------------------------------------------------------------ help */

static const char connection_help[] =
    "Connection options (as in psql; what is not given comes from PG* and libpq's defaults):\n"
    "  -h, --host=HOSTNAME      database server host or socket directory\n"
    "  -p, --port=PORT          database server port\n"
    "  -U, --username=USERNAME  database user name\n"
    "  -d, --dbname=DBNAME      database name, or a connection string or URI\n";

static void
help(enum command cmd)
{
    switch (cmd) {
    case CMD_NONE:
        printf("myappctx installs, checks and audits the libmyappctx schema in a PostgreSQL database.\n"
               "\n"
               "Usage:\n"
               "  myappctx [OPTION]... COMMAND [COMMAND-OPTION]...\n"
               "\n"
               "Commands:\n"
               "  schema install   apply the missing migrations (idempotent) and set up the app role\n"
               "  schema status    show the installed schema version (exit 4 if missing or outdated)\n"
               "  schema sql       print the embedded SQL, for review or for psql\n"
               "  doctor           audit the deployment: app role, row-level security, functions\n"
               "\n"
               "%s"
               "\n"
               "Other options:\n"
               "  -V, --version            show the version, then exit\n"
               "  -?, --help               show this help, then exit; after a command, its help\n"
               "\n"
               "Options may come before or after the command.  Exit status: 0 ok, 1 error\n"
               "(doctor: findings), 2 usage error, 3 cannot connect, 4 schema not installed or\n"
               "out of date (status).  See myappctx(1).\n", connection_help);
        break;
    case CMD_SCHEMA:
        printf("Usage:\n"
               "  myappctx [OPTION]... schema install [--app-role=NAME] [--no-create-role] [--demo]\n"
               "  myappctx [OPTION]... schema status [--json]\n"
               "  myappctx schema sql [--demo]\n"
               "\n"
               "Run 'myappctx schema COMMAND --help' for one command's options.\n");
        break;
    case CMD_INSTALL:
        printf("Usage: myappctx [OPTION]... schema install [--app-role=NAME] [--no-create-role] [--demo]\n"
               "\n"
               "Applies the migrations this library carries that the database lacks, in one\n"
               "transaction under an advisory lock, and records them in myappctx.schema_migrations.\n"
               "Running it again changes nothing.  Needs a role that can create schemas,\n"
               "functions and roles (typically a superuser).  When the server has the\n"
               "extension of sealed mode (myappctx_seal), it is created too: inert until the\n"
               "server preloads it.\n"
               "\n"
               "Options:\n"
               "      --app-role=NAME      set up the application role NAME (created if missing):\n"
               "                           role defaults and least-privilege grants\n"
               "      --no-create-role     with --app-role: the role must exist already\n"
               "      --demo               also install the demo objects (data.orders, with RLS)\n"
               "  -?, --help               show this help, then exit\n"
               "\n"
               "%s", connection_help);
        break;
    case CMD_STATUS:
        printf("Usage: myappctx [OPTION]... schema status [--json]\n"
               "\n"
               "Shows the installed schema and demo versions against the ones this library\n"
               "carries, and whether the extension of sealed mode is installed and loaded.\n"
               "Exit status 4 if the schema is not installed or its version differs.\n"
               "\n"
               "Options:\n"
               "      --json               print a JSON object instead of text\n"
               "  -?, --help               show this help, then exit\n"
               "\n"
               "%s", connection_help);
        break;
    case CMD_SQL:
        printf("Usage: myappctx schema sql [--demo]\n"
               "\n"
               "Prints the embedded migrations as one SQL script, for review or to run with\n"
               "psql -v ON_ERROR_STOP=1 -1.  The script does not record the migrations in\n"
               "myappctx.schema_migrations; 'schema install' does.  Needs no connection.\n"
               "\n"
               "Options:\n"
               "      --demo               print the demo objects instead of the core schema\n"
               "  -?, --help               show this help, then exit\n");
        break;
    case CMD_DOCTOR:
        printf("Usage: myappctx [OPTION]... doctor [--app-role=NAME] [-n SCHEMA]... [--json]\n"
               "\n"
               "Audits the deployment in the database and prints each finding with its fix:\n"
               "the application role (superuser, BYPASSRLS, owner of tables), tables with\n"
               "row-level security but no policy or not forced for an owner, policies calling\n"
               "the context readers per row, SECURITY DEFINER functions without a pinned\n"
               "search_path, context readers declared IMMUTABLE, and the schema version.\n"
               "Exit status 1 if there is any error or warning; notes do not count.\n"
               "\n"
               "Options:\n"
               "      --app-role=NAME      the role the application connects as (default: app_service)\n"
               "  -n, --schema=SCHEMA      check the tables of SCHEMA only (repeatable;\n"
               "                           default: every non-system schema)\n"
               "      --json               print a JSON document instead of text\n"
               "  -?, --help               show this help, then exit\n"
               "\n"
               "%s", connection_help);
        break;
    }
}

/* ------------------------------------------------------------ usage errors */

static int usage_error(enum command cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "myappctx: MESSAGE" and where to find help; returns exit status 2. */
static int
usage_error(enum command cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("myappctx: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd == CMD_NONE)
        fputs("Try 'myappctx --help' for more information.\n", stderr);
    else
        fprintf(stderr, "Try 'myappctx %s --help' for more information.\n", command_name[cmd]);
    return CLI_EXIT_USAGE;
}

/* The command named by the words, or -1 after printing why not. */
static int
resolve_command(const struct args *a, enum command *out)
{
    *out = CMD_NONE;
    if (a->nwords == 0)
        return 0;
    size_t used = 1;
    if (strcmp(a->words[0], "doctor") == 0) {
        *out = CMD_DOCTOR;
    } else if (strcmp(a->words[0], "schema") == 0) {
        *out = CMD_SCHEMA;
        if (a->nwords > 1) {
            used = 2;
            if (strcmp(a->words[1], "install") == 0)
                *out = CMD_INSTALL;
            else if (strcmp(a->words[1], "status") == 0)
                *out = CMD_STATUS;
            else if (strcmp(a->words[1], "sql") == 0)
                *out = CMD_SQL;
            else
                return usage_error(CMD_SCHEMA, "unknown schema command '%s'", a->words[1]), -1;
        }
    } else {
        return usage_error(CMD_NONE, "unknown command '%s'", a->words[0]), -1;
    }
    if (a->nwords > used)
        return usage_error(*out, "unexpected argument '%s'", a->words[used]), -1;
    return 0;
}

/* A usage error whose message is already formatted. */
static int
usage_message(const char *msg)
{
    return usage_error(CMD_NONE, "%s", msg);
}

static int
add_word(struct args *a, const char *word)
{
    if (a->nwords == sizeof a->words / sizeof a->words[0])
        return usage_error(CMD_NONE, "too many arguments ('%s')", word);
    a->words[a->nwords++] = word;
    return EXIT_SUCCESS;
}

static int
parse(struct args *a, int argc, char **argv)
{
    char msg[256];
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        /* The element just consumed, when it is the option itself. */
        const char *element = argv[optind - 1];
        switch (c) {
        case 1:
            if (add_word(a, optarg) != EXIT_SUCCESS)
                return CLI_EXIT_USAGE;
            break;
        case 'h': a->conn.host = optarg; break;
        case 'p': a->conn.port = optarg; break;
        case 'U': a->conn.user = optarg; break;
        case 'd': a->conn.dbname = optarg; break;
        case 'V': a->version = 1; break;
        case OPT_HELP: a->help = 1; break;
        case OPT_APP_ROLE:
            if (*optarg == '\0')
                return usage_message("option '--app-role' needs a role name");
            a->app_role = optarg;
            break;
        case OPT_NO_CREATE_ROLE: a->no_create_role = 1; break;
        case OPT_DEMO: a->demo = 1; break;
        case OPT_JSON: a->json = 1; break;
        case 'n': {
            if (*optarg == '\0')
                return usage_message("option '-n/--schema' needs a schema name");
            const char **grown = realloc(a->schemas, (a->nschemas + 1) * sizeof *grown);
            if (grown == NULL) {
                fputs("myappctx: out of memory\n", stderr);
                return EXIT_FAILURE;
            }
            a->schemas = grown;
            a->schemas[a->nschemas++] = optarg;
            break;
        }
        case ':':
            if (strncmp(element, "--", 2) == 0)
                snprintf(msg, sizeof msg, "option '%s' requires an argument", element);
            else
                snprintf(msg, sizeof msg, "option requires an argument -- '%c'", optopt);
            return usage_message(msg);
        default:
            if (optopt == '?') {              /* -?: psql's help option */
                a->help = 1;
                break;
            }
            if (strncmp(element, "--", 2) == 0 && optopt != 0)
                snprintf(msg, sizeof msg, "option '%.*s' doesn't allow an argument",
                         (int)strcspn(element, "="), element);
            else if (strncmp(element, "--", 2) == 0 || optopt <= 0 || optopt > 127)
                snprintf(msg, sizeof msg, "unrecognized option '%s'", element);
            else
                snprintf(msg, sizeof msg, "invalid option -- '%c'", optopt);
            return usage_message(msg);
        }
        if (c > 1 && c <= OPT_JSON)
            a->given[c] = 1;
    }
    /* After "--", everything is a word. */
    for (; optind < argc; optind++)
        if (add_word(a, argv[optind]) != EXIT_SUCCESS)
            return CLI_EXIT_USAGE;
    return EXIT_SUCCESS;
}

/* An option given to a command that does not take it is a usage error. */
static int
check_scope(const struct args *a, enum command cmd)
{
    for (size_t i = 0; i < sizeof option_scope / sizeof option_scope[0]; i++) {
        if (!a->given[option_scope[i].val] || (option_scope[i].commands & FOR(cmd)))
            continue;
        const char *name = option_scope[i].name;
        if (cmd == CMD_NONE || cmd == CMD_SCHEMA)
            return usage_error(cmd, "option '%s' needs a command", name);
        char msg[160];
        snprintf(msg, sizeof msg, "option '%s' is not valid for '%s'", name, command_name[cmd]);
        return usage_error(cmd, "%s", msg);
    }
    if (a->no_create_role && a->app_role == NULL)
        return usage_error(cmd, "option '--no-create-role' needs --app-role");
    return EXIT_SUCCESS;
}

/* ------------------------------------------------------------ commands */

static int
print_sql(int demo)
{
    myappctx_schema_kind kind = demo ? MYAPPCTX_SCHEMA_DEMO : MYAPPCTX_SCHEMA_CORE;
    size_t n = myappctx_schema_migration_count(kind);

    printf("-- libmyappctx %s schema (%s), %zu migrations.\n"
           "-- Review, or run with: psql -v ON_ERROR_STOP=1 -1 -f FILE\n"
           "-- Note: 'myappctx schema install' also records each migration in\n"
           "-- myappctx.schema_migrations; this script does not.\n\n",
           myappctx_version(), demo ? "demo objects" : "core", n);
    for (size_t i = 0; i < n; i++) {
        myappctx_migration m;
        if (myappctx_schema_migration_get(kind, i, &m, NULL) != MYAPPCTX_OK)
            return EXIT_FAILURE;
        printf("-- ===== %s (version %d) =====\n%s\n", m.name, m.version, m.sql);
    }
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* How the server loaded the extension of sealed mode, for people. */
static const char *
seal_mode_text(const myappctx_seal_status *seal)
{
    if (strcmp(seal->mode, "shared") == 0)
        return seal->key_loaded ? "loaded: shared_preload_libraries, key loaded"
                                : "loaded: shared_preload_libraries, NO KEY (set myappctx_seal.key_file)";
    if (strcmp(seal->mode, "backend") == 0)
        return seal->key_loaded ? "loaded: session_preload_libraries, key loaded"
                                : "loaded: session_preload_libraries, NO KEY (set myappctx_seal.key_file)";
    return "inert: not preloaded; add it to shared_preload_libraries to seal";
}

static int
cmd_install(const struct args *a)
{
    myappctx_schema_options opts = MYAPPCTX_SCHEMA_OPTIONS_INIT;
    opts.app_role = a->app_role;
    opts.create_role = !a->no_create_role;
    opts.demo = a->demo;

    struct cli_session s;
    int rc = cli_connect_open(&s, &a->conn);
    if (rc != EXIT_SUCCESS)
        return rc;
    myappctx_schema_status st;
    myappctx_seal_status seal = MYAPPCTX_SEAL_STATUS_INIT;
    myappctx_error err;
    if (myappctx_schema_install(s.conn, &opts, &st, &err) != MYAPPCTX_OK) {
        rc = cli_connect_fail("schema install", &err);
        if (strcmp(err.sqlstate, "42501") == 0)   /* insufficient_privilege */
            fputs("myappctx: hint: installing needs a role that can create schemas, functions "
                  "and roles, typically a superuser: connect as one (-U), or have one run "
                  "'myappctx schema sql | psql -v ON_ERROR_STOP=1 -1'\n", stderr);
    } else if (myappctx_seal_install(s.conn, &seal, &err) != MYAPPCTX_OK) {
        /* The schema is in; the optional extension of sealed mode is not. */
        rc = cli_connect_fail("schema install", &err);
    } else {
        printf("schema version %d installed (%d migration%s applied now)%s%s%s\n",
               st.installed_version, st.applied_now, st.applied_now == 1 ? "" : "s",
               opts.demo ? ", demo objects installed" : "",
               opts.app_role ? ", role set up: " : "", opts.app_role ? opts.app_role : "");
        if (seal.installed)
            printf("sealed mode: extension myappctx_seal %s installed (%s)\n",
                   seal.installed_version, seal_mode_text(&seal));
    }
    cli_connect_close(&s);
    return rc;
}

/* "not installed", "up to date", "outdated" or "newer than this library". */
static const char *
state_of(int installed, int available)
{
    if (installed == 0)
        return "not installed";
    if (installed == available)
        return "up to date";
    return installed < available ? "outdated" : "newer than this library";
}

static json_t *
version_or_null(int v)
{
    return v > 0 ? json_integer(v) : json_null();
}

static int
cmd_status(const struct args *a)
{
    struct cli_session s;
    int rc = cli_connect_open(&s, &a->conn);
    if (rc != EXIT_SUCCESS)
        return rc;
    myappctx_schema_status st;
    myappctx_seal_status seal = MYAPPCTX_SEAL_STATUS_INIT;
    myappctx_error err;
    if (myappctx_schema_status_get(s.conn, &st, &err) != MYAPPCTX_OK ||
        myappctx_seal_status_get(s.conn, &seal, &err) != MYAPPCTX_OK) {
        rc = cli_connect_fail("schema status", &err);
        cli_connect_close(&s);
        return rc;
    }
    cli_connect_close(&s);

    const char *core = state_of(st.installed_version, st.available_version);
    const char *demo = state_of(st.demo_installed, st.demo_available);
    /* The demo objects are optional: only an installed, outdated demo counts. */
    int bad = st.installed_version != st.available_version ||
              (st.demo_installed != 0 && st.demo_installed != st.demo_available);

    if (a->json) {
        /* sealed_mode: the optional extension (myappctx/seal.h). */
        json_t *doc = json_pack("{s:s, s:{s:s, s:o, s:i}, s:{s:s, s:o, s:i}, "
                                "s:{s:b, s:o, s:o, s:b, s:o}}",
                                "library_version", myappctx_version(),
                                "schema", "state", core,
                                "installed", version_or_null(st.installed_version),
                                "available", st.available_version,
                                "demo", "state", demo,
                                "installed", version_or_null(st.demo_installed),
                                "available", st.demo_available,
                                "sealed_mode", "available", seal.available,
                                "installed", seal.installed ? json_string(seal.installed_version)
                                                            : json_null(),
                                "mode", seal.installed ? json_string(seal.mode) : json_null(),
                                "key_loaded", seal.key_loaded,
                                "key_id", seal.key_id[0] ? json_string(seal.key_id) : json_null());
        if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
            json_decref(doc);
            fputs("myappctx: schema status: cannot write JSON\n", stderr);
            return EXIT_FAILURE;
        }
        json_decref(doc);
        putchar('\n');
    } else {
        if (st.installed_version == 0)
            printf("schema: not installed (this library carries version %d; "
                   "run 'myappctx schema install')\n", st.available_version);
        else if (st.installed_version == st.available_version)
            printf("schema: version %d, up to date\n", st.installed_version);
        else if (st.installed_version < st.available_version)
            printf("schema: version %d installed, outdated: this library carries version %d "
                   "(run 'myappctx schema install')\n", st.installed_version, st.available_version);
        else
            printf("schema: version %d installed, newer than this library's %d "
                   "(upgrade libmyappctx)\n", st.installed_version, st.available_version);
        if (st.demo_installed == 0)
            printf("demo objects: not installed (optional; version %d available with "
                   "'schema install --demo')\n", st.demo_available);
        else if (st.demo_installed == st.demo_available)
            printf("demo objects: version %d, up to date\n", st.demo_installed);
        else
            printf("demo objects: version %d installed, %s (this library carries version %d)\n",
                   st.demo_installed, demo, st.demo_available);
        if (seal.installed)
            printf("sealed mode: extension myappctx_seal %s installed, %s%s%s\n",
                   seal.installed_version, seal_mode_text(&seal),
                   seal.key_id[0] ? ", key_id " : "", seal.key_id);
        else if (seal.available)
            printf("sealed mode: extension myappctx_seal available, not installed (optional; "
                   "'schema install' creates it)\n");
        else
            printf("sealed mode: extension myappctx_seal not available on this server (optional; "
                   "extension/README.md)\n");
    }
    if (fflush(stdout) != 0)
        return EXIT_FAILURE;
    return bad ? CLI_EXIT_OUTDATED : EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
    struct args a;
    memset(&a, 0, sizeof a);
    int rc = parse(&a, argc, argv);
    enum command cmd;
    if (rc == EXIT_SUCCESS && resolve_command(&a, &cmd) != 0)
        rc = CLI_EXIT_USAGE;
    if (rc != EXIT_SUCCESS)
        goto out;

    if (a.help) {
        help(cmd);
        rc = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        goto out;
    }
    if (a.version) {
        printf("myappctx (libmyappctx) %s\n", myappctx_version());
        rc = EXIT_SUCCESS;
        goto out;
    }
    rc = check_scope(&a, cmd);
    if (rc != EXIT_SUCCESS)
        goto out;

    switch (cmd) {
    case CMD_NONE:
        rc = usage_message("no command given (schema install, schema status, schema sql or doctor)");
        break;
    case CMD_SCHEMA:
        rc = usage_error(CMD_SCHEMA, "%s", "missing schema command (install, status or sql)");
        break;
    case CMD_INSTALL:
        rc = cmd_install(&a);
        break;
    case CMD_STATUS:
        rc = cmd_status(&a);
        break;
    case CMD_SQL:
        rc = print_sql(a.demo);
        break;
    case CMD_DOCTOR: {
        struct cli_doctor_options d = {
            .app_role = a.app_role != NULL ? a.app_role : "app_service",
            .schemas = a.schemas, .nschemas = a.nschemas, .json = a.json,
        };
        rc = cli_doctor_run(&a.conn, &d);
        break;
    }
    }
out:
    free(a.schemas);
    return rc;
}
