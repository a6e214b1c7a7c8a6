/**
 * @file myappctx/error.h
 * Status codes and the caller-provided error structure.
 *
 * Every call returns MYAPPCTX_OK (0) or a negative MYAPPCTX_E* code.  Calls
 * that can fail take an optional `myappctx_error *err` (NULL allowed): on
 * failure the library fills it with the code, the server's SQLSTATE (empty
 * when the error did not come from the server), a one-line message and,
 * for a server error, the server's DETAIL, HINT and the names of the
 * schema, table, column, data type and constraint concerned; on success it
 * is left untouched.  Codes are stable: new ones are only added.
 *
 * Every message has the form
 *
 * @verbatim
   myappctx_<function>: <what went wrong>[; <what to do>]
   @endverbatim
 *
 * where the function is the public function the application called; a
 * server error keeps the server's primary message after the prefix.
 *
 * Threading and ownership: a myappctx_error is plain memory of a fixed size
 * that belongs to the caller and is never allocated by the library; use one
 * per thread.  The two functions below may be called from any thread.
 *
 * @anchor myappctx_common_codes
 * <b>Codes every call may return.</b>  The documentation of each function
 * lists only the codes specific to it.  Besides those, any call may return
 *  - MYAPPCTX_EINVAL: a NULL or invalid argument, refused before the call
 *    sends a statement of its own (the message names the argument; the
 *    limits are in the parameter descriptions);
 *  - MYAPPCTX_ENOMEM: out of memory, in a call that allocates;
 *
 * and any call that runs a statement on a myappctx_conn may return
 *  - MYAPPCTX_ECONNECT: the connection is broken or was lost during the call
 *    (also SQLSTATE class 08 and 57P01..57P03);
 *  - MYAPPCTX_EBUSY: the connection is in pipeline mode or a query is still
 *    in progress on it;
 *  - MYAPPCTX_ETXNFAILED: the connection is inside an aborted transaction
 *    (25P02): roll it back first;
 *  - MYAPPCTX_ECANCELED: the statement was cancelled or ran past
 *    statement_timeout (57014);
 *  - MYAPPCTX_EPROTO: the server's answer has not the shape the library
 *    expects (a schema function of another version or changed by hand);
 *  - MYAPPCTX_ESERVER: any other server error, SQLSTATE in err->sqlstate
 *    (e.g. 42501 when the role lacks a privilege).
 *
 * On a connection borrowed from a pool, such a call may also fail with the
 * error of the reset that clears the previous borrower's state (see
 * myappctx/pool.h).
 *
 * @anchor myappctx_failed_connects
 * <b>Failed connects.</b>  libpq does not give the SQLSTATE of a connect
 * the server refused (there is no result to read it from).  For
 * MYAPPCTX_ECONNECT from myappctx_conn_open() (and the pool), err->sqlstate
 * is recovered from the server's message as libpq prints it -- a best
 * effort for English server messages (lc_messages): 28P01 (wrong password;
 * also libpq's "no password supplied"), 28000 (unknown role, role without
 * LOGIN, pg_hba.conf), 3D000 (no such database), 42501 (no CONNECT
 * privilege), 55000 (database not accepting connections), 53300 (too many
 * connections), 57P03 (starting up, shutting down, in recovery); "" for
 * anything else or another language.  The message is libpq's, on one line
 * (the attempts at several hosts joined with "; "); its DETAIL and HINT
 * lines go to err->detail and err->hint.
 */
#ifndef MYAPPCTX_ERROR_H
#define MYAPPCTX_ERROR_H

#include <myappctx/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes.  Server errors raised by the schema map to named codes. */
enum myappctx_status {
    MYAPPCTX_OK               = 0,   /**< success */
    MYAPPCTX_EINVAL           = -1,  /**< invalid argument (checked before any round trip) */
    MYAPPCTX_ENOMEM           = -2,  /**< out of memory */
    MYAPPCTX_ECONNECT         = -3,  /**< connection failed or broken (SQLSTATE class 08) */
    MYAPPCTX_ESERVER          = -4,  /**< any other server error; see err->sqlstate */
    MYAPPCTX_ETIMEOUT         = -5,  /**< a wait ran out of time (pool acquire) */
    MYAPPCTX_ENOTXN           = -6,  /**< transaction-scoped call outside a transaction block */
    MYAPPCTX_ESESSIONSTATE    = -7,  /**< session state not allowed (behind a transaction pooler) */
    MYAPPCTX_ESCHEMA          = -8,  /**< schema missing, unsupported version or checksum mismatch */
    MYAPPCTX_EPROTO           = -9,  /**< the server answered something unexpected */
    MYAPPCTX_ENOCONTEXT       = -10, /**< P0050: user context not set */
    MYAPPCTX_ENOTENANT        = -11, /**< P0051: tenant context not set */
    MYAPPCTX_EACCESS          = -12, /**< P0052: user has no access to the tenant */
    MYAPPCTX_ENOTADMIN        = -13, /**< P0053: only admins can impersonate */
    MYAPPCTX_ERATELIMIT       = -14, /**< P0054: rate limit exceeded */
    MYAPPCTX_EIMPERSONATING   = -15, /**< P0055: already impersonating (nested) */
    MYAPPCTX_ENOTIMPERSONATING= -16, /**< P0056: not impersonating */
    MYAPPCTX_ENOUSER          = -17, /**< P0057: unknown target user */
    MYAPPCTX_EBADARG          = -18, /**< P0058: the server refused an argument */
    MYAPPCTX_ETXNFAILED       = -19, /**< 25P02: the transaction is aborted; roll it back */
    MYAPPCTX_ECANCELED        = -20, /**< 57014: the statement was cancelled or timed out */
    MYAPPCTX_EBUSY            = -21, /**< the connection is in a state that forbids the call */
    MYAPPCTX_ECLOSED          = -22, /**< the pool is closed */
    MYAPPCTX_EFULL            = -23, /**< the pool's waiter queue is full */
    MYAPPCTX_EMALFORMED       = -24, /**< a stored value cannot be read as the requested type */
    MYAPPCTX_ENOTFOUND        = -25, /**< the requested item does not exist */
    MYAPPCTX_EHOOK            = -26, /**< a user hook refused the connection */
    /** The session user is a superuser or has BYPASSRLS: row-level
     *  security would not apply to it (see allow_privileged in
     *  myappctx/conn.h and myappctx/pool.h). */
    MYAPPCTX_EPRIVILEGED      = -27,
    MYAPPCTX_ESEAL            = -28  /**< MX001..MX007: sealed mode refused (myappctx/seal.h) */
};

/** The layout of myappctx_error this header describes: 1 had code, sqlstate
 *  and message only; 2 added version, truncated, detail, hint and the five
 *  names.  Bumped whenever a field is taken from the reserved space. */
#define MYAPPCTX_ERROR_VERSION 2
/** sizeof(myappctx_error), the same in every version: later fields are
 *  carved out of the reserved tail, so a program built against an older
 *  header still hands the library enough room. */
#define MYAPPCTX_ERROR_SIZE 2048
/** Size of myappctx_error.message, including the terminating NUL. */
#define MYAPPCTX_ERROR_MESSAGE_SIZE 512
/** Size of myappctx_error.detail, including the terminating NUL. */
#define MYAPPCTX_ERROR_DETAIL_SIZE 512
/** Size of myappctx_error.hint, including the terminating NUL. */
#define MYAPPCTX_ERROR_HINT_SIZE 256
/** Size of the name fields of myappctx_error: PostgreSQL's NAMEDATALEN (63
 *  bytes and the NUL), so a name of a default build is never cut. */
#define MYAPPCTX_ERROR_NAME_SIZE 64

/** Bits of myappctx_error.truncated: the field was cut to fit (at a UTF-8
 *  character boundary). */
#define MYAPPCTX_ERROR_TRUNCATED_MESSAGE    0x01u
#define MYAPPCTX_ERROR_TRUNCATED_DETAIL     0x02u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */
#define MYAPPCTX_ERROR_TRUNCATED_HINT       0x04u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */
#define MYAPPCTX_ERROR_TRUNCATED_SCHEMA     0x08u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */
#define MYAPPCTX_ERROR_TRUNCATED_TABLE      0x10u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */
#define MYAPPCTX_ERROR_TRUNCATED_COLUMN     0x20u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */
#define MYAPPCTX_ERROR_TRUNCATED_DATATYPE   0x40u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */
#define MYAPPCTX_ERROR_TRUNCATED_CONSTRAINT 0x80u  /**< see MYAPPCTX_ERROR_TRUNCATED_MESSAGE */

/**
 * Details of the last failure of a call (caller-owned, fixed size, never
 * allocated; declare one on the stack, no initialisation needed).  Every
 * field is written at each failure: text fields are NUL-terminated and ""
 * when there is nothing to say.  DETAIL and HINT are the server's text and
 * may span several lines; the message is one line.  The names come from the
 * server's error fields (PostgreSQL fills them for constraint violations
 * and some data type errors; a RAISE may set them too).
 */
typedef struct myappctx_error {
    int  code;                                   /**< a MYAPPCTX_E* code */
    char sqlstate[6];                            /**< e.g. "P0050"; "" if not from the server */
    char message[MYAPPCTX_ERROR_MESSAGE_SIZE];   /**< one line, see the file comment */
    /** MYAPPCTX_ERROR_VERSION of the library that filled it: the fields up
     *  to that version's are valid. */
    int  version;
    /** MYAPPCTX_ERROR_TRUNCATED_* bits of the fields that were cut. */
    unsigned truncated;
    char detail[MYAPPCTX_ERROR_DETAIL_SIZE];     /**< the server's DETAIL */
    char hint[MYAPPCTX_ERROR_HINT_SIZE];         /**< the server's HINT, or the library's advice */
    char schema_name[MYAPPCTX_ERROR_NAME_SIZE];  /**< schema of the object concerned */
    char table_name[MYAPPCTX_ERROR_NAME_SIZE];   /**< table concerned */
    char column_name[MYAPPCTX_ERROR_NAME_SIZE];  /**< column concerned */
    char datatype_name[MYAPPCTX_ERROR_NAME_SIZE];    /**< data type concerned */
    char constraint_name[MYAPPCTX_ERROR_NAME_SIZE];  /**< constraint violated */
    /** Room for the fields of later versions; not written. */
    char reserved[MYAPPCTX_ERROR_SIZE - 1620];
} myappctx_error;

/** A short description of a status code (static storage, never NULL, also
 *  for an unknown code). */
MYAPPCTX_API const char *myappctx_strerror(int code);

/** The status code a SQLSTATE maps to: P0050..P0058, 25P02 and 57014 have
 *  their own codes, class 08 and 57P01..57P03 are MYAPPCTX_ECONNECT, class
 *  MX (the myappctx_seal extension) is MYAPPCTX_ESEAL, any other is
 *  MYAPPCTX_ESERVER.  MYAPPCTX_EINVAL when @p sqlstate is NULL or
 *  not 5 characters long. */
MYAPPCTX_API int myappctx_status_from_sqlstate(const char *sqlstate);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_ERROR_H */
