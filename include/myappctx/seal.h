/**
 * @file myappctx/seal.h
 * Sealed mode: context that injected SQL cannot forge.
 *
 * With the optional server extension myappctx_seal (extension/README.md)
 * loaded through shared_preload_libraries (or session_preload_libraries),
 * the context variables (myapp.current_user_id, ...) can no longer be set by
 * the application role: `set_config()`, `SET` and the schema's own setters
 * fail with 42501.  They are set only by a server function that first checks
 * an HMAC-SHA256, computed by the library with a key the database never
 * shows to a session, over every field, for a stream the server issued to
 * this connection, with a counter that only grows (so a captured MAC cannot
 * be replayed).
 *
 * A connection is sealed when it is opened with
 * myappctx_conn_options.seal_key (or comes from a pool configured with
 * myappctx_pool_config.seal_key).  Nothing else changes for the caller:
 *
 * | call                                  | sends, when sealed                                   |
 * |---------------------------------------|------------------------------------------------------|
 * | myappctx_conn_open(), _wrap()         | one more round trip: open_stream() and status()      |
 * | units (run_in_context, begin_in_context, context_begin) | myappctx_seal.set_context(..., local) as the unit's first statement: the same round trips |
 * | myappctx_context_set()                | set_context(..., session)                            |
 * | myappctx_context_set_local(), myappctx_audit_set() | set_context(..., local): the fields the call does not set keep the values in effect, as the server reported them |
 * | myappctx_context_clear()              | myappctx_seal.clear_context()                        |
 * | myappctx_settings_load()              | myappctx_seal.load_app_settings()                    |
 * | myappctx_conn_init()            | myappctx_seal.init_connection()                      |
 * | pool: on_connect, reset               | the sealed counterparts, in the same round trips     |
 *
 * Refusals of the server are MYAPPCTX_ESEAL with the SQLSTATE in
 * err->sqlstate:
 *  - MX001: a MAC does not verify (another key, a changed field);
 *  - MX002: a replay: the counter is not above the last one the server
 *    accepted on this stream -- someone else used a MAC of this stream.  The
 *    connection is burnt: every later sealed call on it fails with
 *    MYAPPCTX_ESEAL, and a pool closes it when it comes back;
 *  - MX003: the server has no key loaded; MX006: the login role is one the
 *    seal cannot protect (a superuser, BYPASSRLS, ...); MX007: the extension
 *    is not preloaded;
 *  - MX004: the stream is unknown to the server (it restarted, or evicted
 *    the stream): the library opens a new stream and sends the call once
 *    more by itself (nothing of it ran), so the caller sees MX004 only when
 *    that fails too;
 *  - MX005: a field the server refuses (a bug: the library checks the same
 *    limits before sending).
 *
 * Threading: the functions here may be called from any thread, on a
 * connection used by one thread at a time.  Ownership: nothing here
 * allocates; the key is copied where it is given and wiped when the
 * connection or pool is freed.
 */
#ifndef MYAPPCTX_SEAL_H
#define MYAPPCTX_SEAL_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Shortest key, in bytes (the server's key file holds 64..128 hex digits). */
#define MYAPPCTX_SEAL_KEY_MIN 32
/** Longest key, in bytes. */
#define MYAPPCTX_SEAL_KEY_MAX 64
/** Size of a key fingerprint: 16 hex digits and a NUL. */
#define MYAPPCTX_SEAL_KEY_ID_SIZE 17

/**
 * Decodes a key as the server's key file holds it: 64..128 hex digits,
 * optionally surrounded by white space (a trailing newline, say).
 * @param[out] out   receives the bytes (at least MYAPPCTX_SEAL_KEY_MAX bytes)
 * @param[out] out_len receives their number
 * @param hex        the text
 * @param err        error details, or NULL
 * @return MYAPPCTX_OK, or MYAPPCTX_EINVAL (not 64..128 hex digits, an odd
 *         count, or other characters); the message never repeats the text.
 */
MYAPPCTX_API int myappctx_seal_key_from_hex(unsigned char out[MYAPPCTX_SEAL_KEY_MAX],
                                            size_t *out_len, const char *hex,
                                            myappctx_error *err);

/**
 * The key's fingerprint, as the server's myappctx_seal.status() reports it
 * in key_id: the first 8 bytes of HMAC-SHA256(key, F("myappctx_seal/v1/key_id"))
 * in lower-case hex.  Safe to log; it does not reveal the key.
 * @param[out] out  receives the 16 digits and a NUL
 * @param key       the key's bytes
 * @param key_len   their number
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK, or MYAPPCTX_EINVAL (a key length outside
 *         MYAPPCTX_SEAL_KEY_MIN..MYAPPCTX_SEAL_KEY_MAX).
 */
MYAPPCTX_API int myappctx_seal_key_id(char out[MYAPPCTX_SEAL_KEY_ID_SIZE],
                                      const unsigned char *key, size_t key_len,
                                      myappctx_error *err);

/** Non-zero if @p conn was opened in sealed mode (0 for NULL). */
MYAPPCTX_API int myappctx_conn_is_sealed(const myappctx_conn *conn);

/** The extension on a server and in a database; start from
 *  MYAPPCTX_SEAL_STATUS_INIT. */
typedef struct myappctx_seal_status {
    int version;          /**< MYAPPCTX_SEAL_STATUS_VERSION */
    /** Non-zero: the server has the extension's files (pg_available_extensions). */
    int available;
    /** Non-zero: CREATE EXTENSION myappctx_seal was run in this database. */
    int installed;
    char installed_version[16]; /**< e.g. "1.0"; "" when not installed */
    /** How the server loaded it: "shared" (shared_preload_libraries),
     *  "backend" (session_preload_libraries), "inert" (not preloaded: sealed
     *  connections are refused); "" when not installed. */
    char mode[8];
    int key_loaded;       /**< non-zero: the server has a key loaded */
    char key_id[MYAPPCTX_SEAL_KEY_ID_SIZE]; /**< its fingerprint; "" without a key */
} myappctx_seal_status;

/** The version of myappctx_seal_status this header describes. */
#define MYAPPCTX_SEAL_STATUS_VERSION 1
/** Initialiser of myappctx_seal_status. */
#define MYAPPCTX_SEAL_STATUS_INIT { MYAPPCTX_SEAL_STATUS_VERSION, 0, 0, "", "", 0, "" }

/**
 * Reads the extension's state (one read-only round trip; in a database
 * where it is created, myappctx_seal.status() too).
 * @param conn      any connection (sealed or not)
 * @param[out] out  initialised with MYAPPCTX_SEAL_STATUS_INIT
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EINVAL also when out->version is not
 *         MYAPPCTX_SEAL_STATUS_VERSION.
 */
MYAPPCTX_API int myappctx_seal_status_get(myappctx_conn *conn, myappctx_seal_status *out,
                                          myappctx_error *err);

/**
 * Creates the extension's SQL objects in the database
 * (`CREATE EXTENSION IF NOT EXISTS myappctx_seal`) when the server has its
 * files, after myappctx_schema_install() (its functions call the schema's).
 * Creating it changes nothing for unsealed connections: until the server
 * preloads the library it is inert.  Needs a superuser.
 * @param conn      a connection not inside a transaction
 * @param[out] out  optional (initialised with MYAPPCTX_SEAL_STATUS_INIT):
 *                  the state afterwards; out->installed is 0 when the
 *                  server does not have the extension (that is not an error)
 * @param err       error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EBUSY (@p conn is inside a transaction
 *         block); the server's error when CREATE EXTENSION fails.
 */
MYAPPCTX_API int myappctx_seal_install(myappctx_conn *conn, myappctx_seal_status *out,
                                       myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_SEAL_H */
