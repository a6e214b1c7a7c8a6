/**
 * @file myappctx/conn.h
 * The connection handle.
 *
 * Threading: a myappctx_conn wraps one libpq connection and, like PGconn, is
 * used by one thread at a time; different connections may be used
 * concurrently.  Ownership: myappctx_conn_open() and myappctx_conn_wrap() give
 * the caller a handle to free with myappctx_conn_close(); a connection
 * borrowed from a pool belongs to the pool (myappctx/pool.h).  Each function
 * lists only its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_CONN_H
#define MYAPPCTX_CONN_H

#include <myappctx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Options for myappctx_conn_open(); initialise with MYAPPCTX_CONN_OPTIONS_INIT
 *  so fields added later get their defaults. */
typedef struct myappctx_conn_options {
    int version;          /**< MYAPPCTX_CONN_OPTIONS_VERSION */
    /** Non-zero: the connection goes through a transaction pooler (PgBouncer
     *  pool_mode=transaction).  Session-scoped calls then fail with
     *  MYAPPCTX_ESESSIONSTATE, because the pooler would hand the session
     *  state to another client. */
    int txn_pooler;
    /** DANGEROUS.  Non-zero: accept a session user that is a superuser or
     *  has the BYPASSRLS attribute.  Row-level security does not apply to
     *  such a user, so every RLS policy reading the context is bypassed:
     *  every tenant's rows are visible and writable whatever the context
     *  says.  Only for administration (installing the schema, audits),
     *  never for application traffic.  Default 0: such a session is
     *  refused with MYAPPCTX_EPRIVILEGED. */
    int allow_privileged;
    /** Sealed mode (myappctx/seal.h): the bytes of the server's
     *  myappctx_seal key file (not its hex text; see
     *  myappctx_seal_key_from_hex()), copied by the call; NULL (default):
     *  not sealed.  Opening then costs one more round trip, which opens the
     *  connection's stream and checks the server's key fingerprint. */
    const unsigned char *seal_key;
    /** Length of seal_key: MYAPPCTX_SEAL_KEY_MIN..MYAPPCTX_SEAL_KEY_MAX bytes. */
    size_t seal_key_len;
} myappctx_conn_options;

/** The version of myappctx_conn_options this header describes (2: the
 *  check_schema field left, call myappctx_schema_check(); 3:
 *  allow_privileged; 4: seal_key and seal_key_len). */
#define MYAPPCTX_CONN_OPTIONS_VERSION 4
/** Initialiser of myappctx_conn_options with every default. */
#define MYAPPCTX_CONN_OPTIONS_INIT { MYAPPCTX_CONN_OPTIONS_VERSION, 0, 0, NULL, 0 }

/* Privileged sessions.  myappctx_conn_open() and myappctx_conn_wrap() refuse
 * a session whose user row-level security does not apply to -- a
 * superuser, or a role with BYPASSRLS -- unless allow_privileged is set.
 * Superuser status is what the server reported at connect (the
 * is_superuser parameter, no round trip); BYPASSRLS takes one query,
 * once per connection, at open or wrap (none with allow_privileged).  On a
 * wrapped connection the check applies to its session_authorization at
 * the time of the wrap.  Behind a transaction pooler it is the server
 * login of the pooler's connection that is checked, as the server reports
 * it.  Table owners bypass the RLS of their tables too unless the table
 * has FORCE ROW LEVEL SECURITY; the library cannot see that from the
 * session and does not check it (README.md, "Threat model"). */

/**
 * Opens a connection.  Server notices on it are discarded (the library
 * never prints) unless a tracer takes them (myappctx_conn_set_tracer(),
 * myappctx/tracer.h).
 * @param[out] out   receives the connection; free it with myappctx_conn_close()
 * @param conninfo   libpq connection string or URI ("" uses the PG* environment)
 * @param opts       options, or NULL for the defaults
 * @param err        error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ECONNECT (the server cannot be reached or
 *         refused the connection; err->sqlstate as in myappctx/error.h,
 *         @ref myappctx_failed_connects "Failed connects"); MYAPPCTX_EPRIVILEGED (the
 *         session user is a superuser or has BYPASSRLS, and
 *         @p opts->allow_privileged is not set: see above).  The schema is
 *         not checked here: see myappctx_schema_check().  With
 *         opts->seal_key also MYAPPCTX_ESCHEMA (the extension myappctx_seal
 *         is not created in the database, not preloaded, or holds another
 *         key) and MYAPPCTX_ESEAL (the server refused the stream: SQLSTATE
 *         MX001..MX007, see myappctx/seal.h).
 */
MYAPPCTX_API int myappctx_conn_open(myappctx_conn **out, const char *conninfo,
                                    const myappctx_conn_options *opts,
                                    myappctx_error *err);

/**
 * Wraps an established libpq connection.  The caller keeps ownership of
 * @p pg: myappctx_conn_close() frees the wrapper only, and @p pg must
 * outlive it.
 * @param[out] out  receives the wrapper; free it with myappctx_conn_close()
 * @param pg        a connected PGconn
 * @param opts      options, or NULL for the defaults
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also when @p pg is not connected;
 *         MYAPPCTX_EPRIVILEGED as for myappctx_conn_open(); the error of
 *         the query that reads the session user's BYPASSRLS attribute (for
 *         instance MYAPPCTX_ETXNFAILED when @p pg is inside an aborted
 *         transaction, or MYAPPCTX_EBUSY in pipeline mode); with
 *         opts->seal_key the codes of myappctx_conn_open().
 */
MYAPPCTX_API int myappctx_conn_wrap(myappctx_conn **out, PGconn *pg,
                                    const myappctx_conn_options *opts,
                                    myappctx_error *err);

/** The underlying libpq connection (borrowed: do not PQfinish() it).
 *  Raw access may change session state, so a pooled connection handed out
 *  this way is always reset when it is released; and it never carries the
 *  previous borrower's state: that is cleared before the PGconn is returned.
 *  @return the PGconn; NULL if @p conn is NULL, or if clearing the previous
 *          borrower's state failed on a live connection (give the connection
 *          back to the pool: it will not be lent again). */
MYAPPCTX_API PGconn *myappctx_conn_pg(myappctx_conn *conn);

/** Non-zero if the connection was declared to be behind a transaction pooler. */
MYAPPCTX_API int myappctx_conn_is_txn_pooler(const myappctx_conn *conn);

/** Non-zero if the connection is inside a transaction block (open or failed). */
MYAPPCTX_API int myappctx_conn_in_transaction(const myappctx_conn *conn);

/** Closes the connection (and the PGconn unless it was wrapped) and frees
 *  the handle.  NULL is allowed.  On a connection borrowed from a pool it
 *  does what myappctx_pool_release() does instead: the connection goes back
 *  to the pool. */
MYAPPCTX_API void myappctx_conn_close(myappctx_conn *conn);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_CONN_H */
