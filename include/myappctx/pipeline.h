/**
 * @file myappctx/pipeline.h
 * Context-scoped transactions in one network round trip.
 *
 * A naive client spends a round trip on each of BEGIN, setting the user,
 * setting the tenant, the query and COMMIT.  These calls send the context
 * and the caller's statements as one libpq pipeline ending in one Sync, so
 * the server runs them as one implicit transaction: the transaction-local
 * context is visible to every statement, an error anywhere rolls all of it
 * back, and the whole unit costs one round trip.
 *
 * They work on plain connections, pooled connections and connections behind
 * PgBouncer in transaction mode (only unnamed statements are used).
 *
 * Threading: a myappctx_conn is used by one thread at a time.  Ownership:
 * the statements and the context are read during the call only; every
 * PGresult handed back is the caller's (PQclear() or myappctx_results_free()).
 * Each function lists only its own codes; see myappctx/error.h for the
 * common ones.
 */
#ifndef MYAPPCTX_PIPELINE_H
#define MYAPPCTX_PIPELINE_H

#include <myappctx/conn.h>
#include <myappctx/uuid.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One parameterized statement of the caller ($1..$n, text parameters). */
typedef struct myappctx_stmt {
    const char *sql;               /**< one SQL statement, no transaction control */
    int nparams;                   /**< 0..65535 */
    const char *const *params;     /**< nparams strings (elements may be NULL = SQL NULL) */
} myappctx_stmt;

/** The context of one unit of work; start from MYAPPCTX_TXN_CONTEXT_INIT. */
typedef struct myappctx_txn_context {
    int version;                   /**< MYAPPCTX_TXN_CONTEXT_VERSION */
    const myappctx_uuid *user_id;  /**< required, not the nil UUID */
    const myappctx_uuid *tenant_id;/**< optional (NULL: no tenant; not the nil UUID) */
    /** the user's role in the application, a label (not a database role:
     *  see @c db_role), 1..MYAPPCTX_ROLE_LABEL_MAX bytes; NULL: no label in
     *  this transaction (as myappctx_context_set_local()) */
    const char *role_label;
    /** optional, ≤ MYAPPCTX_AUDIT_TEXT_MAX bytes; with audit_ticket, sets the
     *  transaction's audit context (as myappctx_audit_set()) */
    const char *audit_reason;
    const char *audit_ticket;      /**< optional, ≤ MYAPPCTX_AUDIT_TEXT_MAX bytes */
    /** optional database role for the unit, 1..MYAPPCTX_DB_ROLE_MAX bytes:
     *  `SET LOCAL ROLE` to it (the login role must be a member of it, or
     *  the unit fails with 42501), as PostgREST does; NULL: the login role.
     *  Distinct from @c role_label, an application label the schema's
     *  readers report. */
    const char *db_role;
} myappctx_txn_context;

/** Longest database role name (NAMEDATALEN - 1). */
#define MYAPPCTX_DB_ROLE_MAX 63

/** The version of myappctx_txn_context this header describes (2: db_role). */
#define MYAPPCTX_TXN_CONTEXT_VERSION 2
/** Initialiser of myappctx_txn_context: no user yet, every option unset. */
#define MYAPPCTX_TXN_CONTEXT_INIT { MYAPPCTX_TXN_CONTEXT_VERSION, NULL, NULL, NULL, NULL, NULL, NULL }

/** Most statements one call accepts. */
#define MYAPPCTX_PIPELINE_MAX_STMTS 1024

/**
 * Runs @p nstmts statements as one atomic unit under a transaction-local
 * context, in one round trip: set context, statements, Sync.
 *
 * The unit starts clean, on any connection: its first statement, inside
 * the unit's transaction, sets the context and clears for the unit a role
 * SET earlier, every other context variable and impersonation state, and
 * restores session_authorization and, on a pooled connection,
 * application_name and the role/database myapp.* defaults -- whoever set
 * them, this caller too (the session keeps them after the unit).  Refused
 * with MYAPPCTX_EIMPERSONATING while an impersonation the library started
 * on this connection is active.
 *
 * @param conn        an idle connection (not inside a transaction block)
 * @param ctx         the context (user required)
 * @param stmts       1..MYAPPCTX_PIPELINE_MAX_STMTS statements
 * @param nstmts      number of statements
 * @param[out] results  optional array of @p nstmts; on success element i
 *                    receives statement i's result (free each with PQclear(),
 *                    or all with myappctx_results_free()); on failure every
 *                    element is set to NULL
 * @param err         error details, or NULL; a server error carries its
 *                    SQLSTATE and names the failing statement's index
 * @return MYAPPCTX_OK (everything committed); MYAPPCTX_EBUSY also when
 *         @p conn is inside a transaction block; the code of any server
 *         error, as for myappctx_exec() (nothing of the unit is committed);
 *         MYAPPCTX_ECONNECT when the connection breaks, and if it broke
 *         after the unit was sent, the outcome is unknown (the message says
 *         so).
 */
MYAPPCTX_API int myappctx_run_in_context(myappctx_conn *conn,
                                         const myappctx_txn_context *ctx,
                                         const myappctx_stmt *stmts, size_t nstmts,
                                         PGresult **results, myappctx_error *err);

/**
 * Opens a transaction with its context and runs its first statement, all
 * in one round trip (BEGIN, context, statement, Sync).  On success the
 * connection is inside the transaction: run more statements with
 * myappctx_exec() and finish with myappctx_commit() or myappctx_rollback().
 * On failure no transaction is left open.
 *
 * @param conn        an idle connection (not inside a transaction block)
 * @param ctx         the context (user required)
 * @param first       the first statement (may be NULL: then only BEGIN and the context)
 * @param[out] out_first optional; receives the first statement's result
 *                    (free it with PQclear()), NULL on failure
 * @param err         error details, or NULL
 * @return as myappctx_run_in_context().
 */
MYAPPCTX_API int myappctx_begin_in_context(myappctx_conn *conn,
                                           const myappctx_txn_context *ctx,
                                           const myappctx_stmt *first,
                                           PGresult **out_first, myappctx_error *err);

/** PQclear()s @p n results of an array and sets them to NULL (NULL-safe). */
MYAPPCTX_API void myappctx_results_free(PGresult **results, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_PIPELINE_H */
