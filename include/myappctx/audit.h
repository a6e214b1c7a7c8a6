/**
 * @file myappctx/audit.h
 * The audit context (spec "Context for Auditing"): why the current unit of
 * work happens (a reason and a ticket reference), recorded for audit
 * triggers in myapp.audit_context.
 *
 * It is transaction-local on purpose: a reason belongs to one unit of work
 * and must not leak to the next one on a pooled connection.  It is
 * therefore set inside a transaction block and gone after COMMIT or ROLLBACK.
 *
 * Threading: a myappctx_conn is used by one thread at a time.  Ownership:
 * arguments are borrowed for the call only; the JSON object that
 * myappctx_audit_get() returns is the caller's.  Each function lists only
 * its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_AUDIT_H
#define MYAPPCTX_AUDIT_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest reason or ticket accepted, in bytes. */
#define MYAPPCTX_AUDIT_TEXT_MAX 1024

/**
 * Sets the audit context of the current transaction
 * (api.set_audit_context()): {"reason": ..., "ticket": ..., "timestamp": ...}.
 * Each call replaces the previous audit context of the transaction.
 *
 * @param conn    the connection, inside a transaction block
 * @param reason  optional (NULL = JSON null), at most MYAPPCTX_AUDIT_TEXT_MAX
 *                bytes of UTF-8; stored verbatim
 * @param ticket  optional, same rules as @p reason
 * @param err     error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_ENOTXN: not inside a transaction block (nothing is sent).
 */
MYAPPCTX_API int myappctx_audit_set(myappctx_conn *conn, const char *reason,
                                    const char *ticket, myappctx_error *err);

/**
 * Reads the audit context of the current transaction
 * (private.get_audit_context()).
 *
 * @param conn      the connection
 * @param[out] out  receives a new reference to a JSON object with the keys
 *                  "reason", "ticket" (string or null) and "timestamp"
 *                  (ISO 8601 string); release it with json_decref().
 *                  NULL when no audit context is set (or it is '').
 *                  NULL on failure.
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK;
 *         MYAPPCTX_EMALFORMED: the variable holds something that is not a
 *         JSON object (only possible if written with raw SQL).
 */
MYAPPCTX_API int myappctx_audit_get(myappctx_conn *conn, json_t **out, myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_AUDIT_H */
