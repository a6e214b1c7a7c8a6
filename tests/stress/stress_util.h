/* Helpers of tests/stress/stress.c (`make stress`) and
 * tests/stress/failover.c (`make failover`) only: figures, violations and
 * the watchdog, the seeded world of tenants and users, the pool they use,
 * the checks every unit of work runs, the ledger of written tokens and its
 * final verification.
 *
 * Why this is not in the shared test library (tests/lib/testutil.h): these
 * programs are built without Check and run for minutes with many threads,
 * so they count violations and report figures instead of failing
 * assertions, and they exit on setup errors -- none of the Check helpers'
 * "fail the current test" fits.  What they do share with the Check
 * programs (clock, sleep, version-4 UUID bits) is in tests/lib/testbase.h
 * (libtestbase.la, no Check) and is not repeated here.
 *
 * These are test programs, not the library: they may print and exit. */
#ifndef MYAPPCTX_STRESS_UTIL_H
#define MYAPPCTX_STRESS_UTIL_H

#include <stdint.h>

#include "myappctx.h"
#include "testbase.h"

/* ------------------------------------------------------------------ time */

/* Clock and sleep: tu_now_ns(), tu_sleep_ms() (testbase.h). */

/* Nanoseconds as milliseconds / seconds (for printing). */
double su_ns_ms(uint64_t ns);
double su_ns_s(uint64_t ns);

/* Lowers *@slot to @value if smaller (0 in *@slot means "none yet"); atomic. */
void su_atomic_min(uint64_t *slot, uint64_t value);
/* Raises *@slot to @value if larger; atomic. */
void su_atomic_max(uint64_t *slot, uint64_t value);

/* A per-thread xorshift generator (state must not be 0). */
uint64_t su_rand(uint64_t *state);
/* Uniform in [0, n). */
unsigned su_rand_below(uint64_t *state, unsigned n);

/* ------------------------------------------------------ figures, failures */

/* Prints "name=value" on stdout (one line, flushed). */
void su_figure(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A correctness violation (leak, false success, hang, unexpected result):
 * counted under @kind, the first few of each kind printed on stderr.
 * Thread-safe. */
void su_violation(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Violations recorded so far under @kind ("" or NULL: all kinds). */
unsigned long su_violations(const char *kind);

/* Something the run cannot go on without (setup): message and exit 2. */
void su_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Sum of the leak kinds: leak_acquire, leak_rls, leak_identity. */
unsigned long su_leaks(void);

/* Runs "/bin/sh -c CMD" (posix_spawn, safe with threads running) and
 * waits for it.  Returns its exit status, or -1 if it could not run. */
int su_shell(const char *cmd);

/* The value of environment variable @name, or su_die() if unset. */
const char *su_env(const char *name);
/* getenv(@name) as a number, @dflt when unset or empty. */
double su_env_num(const char *name, double dflt);

/* ------------------------------------------------------------- watchdog */

/* One per worker thread: its last sign of life. */
struct su_beat {
    uint64_t progress_ns;       /* atomic */
    int done;                   /* atomic */
};

void su_beat(struct su_beat *b);
void su_beat_done(struct su_beat *b);

/* Sleeps until @until (tu_now_ns() clock), checking every 100 ms that no
 * unfinished worker has been silent for @hang_ms; if one has, records a
 * "hang" violation, prints a summary line and exits with status 3 (its
 * thread cannot be joined). */
void su_watch_until(struct su_beat *beats, int n, uint64_t until, long hang_ms);
/* Waits, watching the same way, until every worker has finished. */
void su_watch_done(struct su_beat *beats, int n, long hang_ms);

/* ------------------------------------------------------------- the world */

enum { SU_TENANTS = 8, SU_USERS_PER_TENANT = 4, SU_USERS = SU_TENANTS * SU_USERS_PER_TENANT };

/* Context roles a unit may use; index 0 is "no role" (SQL NULL). */
enum { SU_ROLE_NONE, SU_ROLE_USER, SU_ROLE_EDITOR, SU_ROLE_ADMIN, SU_NROLES };
extern const char *const su_role_names[SU_NROLES];

struct su_user {
    myappctx_uuid id;
    char text[MYAPPCTX_UUID_BUFSIZE];
    int db_role;           /* data.users.role as SU_ROLE_* (NONE = NULL) */
    int tenants[2];        /* indexes of the tenants it is an active member of */
    int ntenants;
};

struct su_world {
    myappctx_uuid tenant[SU_TENANTS];
    char tenant_text[SU_TENANTS][MYAPPCTX_UUID_BUFSIZE];
    /* User u's home tenant is u / SU_USERS_PER_TENANT; the first user of
     * each tenant is an admin, every user with u % 4 == 1 is also a member
     * of the next tenant. */
    struct su_user user[SU_USERS];
};

/* Fresh random ids; inserts users and memberships and empties
 * data.stress_events, through @su (a superuser connection). */
void su_seed(myappctx_conn *su, struct su_world *w, uint64_t *rng);

/* Opens a superuser connection (allow_privileged) or dies (@conninfo "" =
 * the PG* environment). */
myappctx_conn *su_connect(const char *conninfo);

/* ----------------------------------------------------------------- pool */

/* The configuration both programs start from: @max_size connections as the
 * application role, validation by ping after 250 ms idle, health checks,
 * lifetime with jitter, quick reconnect backoff (up to @reconnect_max_ms),
 * default targeted reset with api.init_connection(). */
myappctx_pool_config su_pool_config(const char *conninfo, int max_size, long acquire_timeout_ms,
                                    long reconnect_max_ms);
/* Creates the pool and waits for min_size connections, or dies. */
myappctx_pool *su_pool_start(const myappctx_pool_config *cfg);
/* Prints the pool's counters as figures prefixed with @prefix. */
void su_pool_figures(myappctx_pool *pool, const char *prefix);

/* ------------------------------------------------------------ unit checks */

/* Inserts a token row; the tenant ($2) must match the context's (RLS WITH
 * CHECK); user, role and audit ticket come from the context (column
 * defaults) and are checked by su_verify().  Parameters: $1 token,
 * $2 tenant, $3 worker, $4 kind. */
extern const char SU_INSERT_SQL[];
/* What RLS lets the unit see; $1 tenant, $2 worker.  Columns: rows of other
 * tenants among the 50 newest visible, this worker's rows of other tenants,
 * this worker's rows of this tenant, and the tenant-access check. */
extern const char SU_VISIBLE_SQL[];

/* Checks a SU_VISIBLE_SQL result: nothing of other tenants, at least
 * @min_own rows of this worker and tenant.  Records a "leak_rls"
 * violation (with @what) and returns 0 otherwise. */
int su_check_visible(const PGresult *res, long min_own, const char *what);

/* The leftover-state check: one text value listing what an earlier
 * borrower left behind, '' when nothing.  Compared with the unit's own
 * context ($2 user, $3 tenant, $4 role, $5 audit ticket; NULL: none
 * expected), it looks at: user, tenant, role, session id, metadata,
 * creation time, audit context, impersonation, current_user and
 * session_user against the login $1, the role GUC, a loaded setting
 * (myapp.stress_baseline = 'clean') and a role default
 * (myapp.default_page_size = 25), statement_timeout (30s) and
 * application_name. */
extern const char SU_CLEAN_SQL[];
/* The same inside a unit: raises SQLSTATE SU_LEFTOVER_STATE (with the
 * leftovers in the message) instead of returning them; same parameters. */
extern const char SU_ASSERT_CLEAN_SQL[];
#define SU_LEFTOVER_STATE "SL001"

/* Checks, right after an acquire, that nothing of an earlier borrower is
 * visible (SU_CLEAN_SQL with no context of its own, and not inside a
 * transaction).  A leftover is a "leak_acquire" violation.  Returns the
 * status of the check query (the caller decides whether an error is
 * acceptable now). */
int su_check_clean(myappctx_conn *conn, const char *login, int *leaked, myappctx_error *err);

/* ------------------------------------------------------------- the ledger */

/* What the library said about a unit that wrote a token. */
enum su_outcome {
    SU_COMMITTED,   /* reported committed: must be present */
    SU_ABSENT,      /* failed, rolled back, or never committed: must be absent */
    SU_UNKNOWN      /* the connection broke during commit: either */
};

/* The verdict of a COMMIT (or of a whole one-round-trip pipeline) that
 * returned @rc: only a connection lost on the way leaves it open. */
enum su_outcome su_commit_outcome(int rc);

struct su_entry {
    int64_t token;
    unsigned char outcome;      /* enum su_outcome */
    unsigned char tenant, user, role;
    unsigned char audited;      /* the unit set audit ticket "T-<token>" */
};

/* One worker's entries (appended by that worker only). */
struct su_ledger {
    struct su_entry *e;
    size_t n, cap;
};

/* Token of a worker's n-th unit: unique across workers. */
int64_t su_token(int worker, uint64_t seq);
struct su_entry *su_ledger_add(struct su_ledger *l, int64_t token, enum su_outcome outcome,
                               int tenant, int user, int role, int audited);
void su_ledger_free(struct su_ledger *l);

struct su_verify_result {
    unsigned long committed, committed_missing;   /* false successes */
    unsigned long absent, absent_present;         /* false failures */
    unsigned long unknown_present, unknown_absent;
    unsigned long stray;                          /* rows nobody wrote */
    unsigned long identity_mismatch;              /* wrong tenant/user/role/ticket */
};

/* Reads every token row through @su (superuser, sees all tenants) and
 * compares with the ledgers; violations are recorded (false_success,
 * false_failure, stray_row, leak_identity) and counted in @out. */
void su_verify(myappctx_conn *su, const struct su_world *w, struct su_ledger *ledgers,
               int nledgers, struct su_verify_result *out);
void su_verify_figures(const struct su_verify_result *r);

#endif
