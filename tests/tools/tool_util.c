#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool_util.h"

static char *
slurp(FILE *f)
{
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

struct tool_result
tool_run(enum tool_env env, const char *arg, ...)
{
    char path[4096];
    const char *top = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/tools/myappctx", top ? top : "..");

    const char *argv[64];
    size_t argc = 0;
    argv[argc++] = path;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
        ck_assert_uint_lt(argc, sizeof argv / sizeof argv[0] - 1);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;

    /* Output goes to anonymous temporary files: no pipe to fill up. */
    FILE *out = tmpfile(), *err = tmpfile();
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (env == TOOL_ENV_NO_PG) {
            unsetenv("PGHOST");
            unsetenv("PGPORT");
            unsetenv("PGUSER");
            unsetenv("PGDATABASE");
        }
        if (dup2(fileno(out), STDOUT_FILENO) < 0 || dup2(fileno(err), STDERR_FILENO) < 0)
            _exit(126);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    struct tool_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    ck_assert_msg(r.status != 127, "cannot run %s", path);
    return r;
}

void
tool_result_free(struct tool_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

json_t *
tool_json(const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    ck_assert_msg(doc != NULL, "not JSON (line %d, column %d: %s):\n%.3000s", e.line, e.column,
                  e.text, text);
    return doc;
}

void
tool_sql(const char *conninfo, const char *sql)
{
    myappctx_conn *c = tu_connect_opts(conninfo, NULL);
    tu_sql(myappctx_conn_pg(c), sql);
    myappctx_conn_close(c);
}
