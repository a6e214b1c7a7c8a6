/* lib/core: what every other layer builds on -- status codes and error
 * details, argument checks done in C before any round trip, strict parsing.
 * Nothing here talks to the server.  Naming: docs/conventions.md. */
#ifndef MXI_CORE_H
#define MXI_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "myappctx.h"

/* ---- error.c ----------------------------------------------------------- */

/* Fills @err (if not NULL) and returns @code.  printf-style message. */
int mxi_error_set(myappctx_error *err, int code, const char *sqlstate,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Empties @err (not NULL): MYAPPCTX_OK, every text "". */
void mxi_error_clear(myappctx_error *err);

/* mxi_error_set() for an error that wraps @inner (which may be @err
 * itself): its SQLSTATE and the server's diagnostics (detail, hint, names,
 * their truncation marks) are kept, the message is formatted anew. */
int mxi_error_wrap(myappctx_error *err, int code, const myappctx_error *inner,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets err->hint (if @err is not NULL) after mxi_error_set(): the
 * library's own advice, which the message also gives after "; ". */
void mxi_error_hint(myappctx_error *err, const char *hint);

/* Maps a failed PGresult (or, when res is NULL, the connection's error) to a
 * status code and fills @err with SQLSTATE, the message "<what>: <primary
 * message>" (just the primary message when @what is NULL: text to be
 * nested in another message) and the server's diagnostics (detail, hint,
 * schema, table, column, data type and constraint names). */
int mxi_error_from_pg(myappctx_error *err, const char *what, PGconn *pg, const PGresult *res);

/* err->message without its leading "<what>: ", for quoting it inside
 * another message. */
const char *mxi_error_cause(const myappctx_error *err, const char *what);

/* EINVAL naming the argument when a required pointer is NULL. */
#define MXI_ERROR_REQUIRE_ARG(err, arg)                                        \
    do {                                                                       \
        if ((arg) == NULL)                                                     \
            return mxi_error_set((err), MYAPPCTX_EINVAL, NULL,                 \
                                 "%s: argument '%s' is NULL", __func__, #arg); \
    } while (0)

/* ---- embedded_version.c (generated from sql/ by build-aux/embed-sql.sh) -- */

/* The version of the last core migration this library embeds: the schema
 * version it needs (lib/api/schema_version.c compares with it). */
extern const int mxi_embedded_version_core;

/* ---- text.c ------------------------------------------------------------ */

/* A text argument: at most @max_len bytes of valid UTF-8; NULL refused
 * unless @allow_null.  EINVAL naming @argname otherwise. */
int mxi_text_check(const char *value, size_t max_len, bool allow_null,
                   const char *argname, const char *what, myappctx_error *err);

/* ---- names.c: setting keys and configuration parameter (GUC) names ------ */

/* A setting key: matches ^[a-z][a-z0-9_]{0,62}$ and is not one of the
 * context variable names, exactly the rule of private.is_valid_setting_key().
 * EINVAL naming @argname otherwise. */
int mxi_names_check_setting_key(const char *key, const char *argname, const char *what,
                                myappctx_error *err);

/* A configuration parameter name: at most MYAPPCTX_CONFIG_NAME_MAX bytes
 * matching ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$.  EINVAL
 * otherwise. */
int mxi_names_check_config(const char *name, const char *argname, const char *what,
                           myappctx_error *err);

/* True when @name (a valid parameter name) is one of the myapp.* context
 * variables, compared case-insensitively as the server compares names. */
bool mxi_names_is_context(const char *name);

/* True when @name has the two-part form of a custom (placeholder) parameter. */
bool mxi_names_is_custom(const char *name);

/* ---- parse.c: strict, locale-independent parsing of text values --------
 * Each returns true on success and leaves *out untouched on failure. */

/* PostgreSQL's boolean input (boolin): surrounding white space ignored, then
 * case-insensitively true/false/yes/no or any unique prefix of them, on,
 * off (or "of"), 1, 0.  *out is 1 or 0. */
bool mxi_parse_bool(const char *text, int *out);

/* A base-10 integer: optional sign then digits only, within long long. */
bool mxi_parse_int64(const char *text, long long *out);

/* A plain decimal as PostgreSQL prints numeric: optional '-', digits,
 * optionally '.' and digits. */
bool mxi_parse_decimal(const char *text, double *out);

/* ---- hmac.c: the MACs of sealed mode (extension/README.md) -------------- */

#define MXI_HMAC_LEN 32               /* HMAC-SHA256 */
#define MXI_HMAC_STREAM_LEN 16        /* a stream id, as open_stream() returns it */
#define MXI_HMAC_CONTEXT_FIELDS 7     /* user, tenant, role, session id, metadata,
                                         audit reason, audit ticket */
#define MXI_HMAC_KEY_ID_SIZE 17       /* 16 hex digits and a NUL */
/* "\\x" + 2 hex digits per byte + NUL: the text form of a bytea parameter. */
#define MXI_HMAC_BYTEA_SIZE(n) (2 + 2 * (n) + 1)

/* A key ready to MAC with (OpenSSL holds the bytes and wipes them when it
 * is freed); NULL when memory or libcrypto fails.  One thread at a time. */
struct mxi_hmac_key;
struct mxi_hmac_key *mxi_hmac_key_new(const unsigned char *key, size_t key_len);
void mxi_hmac_key_free(struct mxi_hmac_key *k);

/* context_mac: HMAC(K, F("myappctx_seal/v1/context") || F(stream) ||
 * F(be64(counter)) || F("local" | "session") || F(field) for each of the
 * seven NUL-terminated text fields ('' for an absent one).  False when
 * memory or libcrypto fails. */
bool mxi_hmac_context(struct mxi_hmac_key *k, const unsigned char stream[MXI_HMAC_STREAM_LEN],
                      int64_t counter, bool local,
                      const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
                      unsigned char out[MXI_HMAC_LEN]);

/* open_mac: HMAC(K, F("myappctx_seal/v1/open") || F("backend" | "any")). */
bool mxi_hmac_open(struct mxi_hmac_key *k, bool bind_backend, unsigned char out[MXI_HMAC_LEN]);

/* The key's fingerprint as status() reports it: the first 8 bytes of
 * HMAC(K, F("myappctx_seal/v1/key_id")) in lower-case hex. */
bool mxi_hmac_key_id(struct mxi_hmac_key *k, char out[MXI_HMAC_KEY_ID_SIZE]);

/* @n bytes as lower-case hex (2n digits and a NUL). */
void mxi_hmac_hex(char *out, const unsigned char *bytes, size_t n);
/* @n bytes as bytea text input, "\\x" and hex, in MXI_HMAC_BYTEA_SIZE(n) bytes. */
void mxi_hmac_bytea(char *out, const unsigned char *bytes, size_t n);
/* Wipes memory that held a key or a MAC (OPENSSL_cleanse: not optimised away). */
void mxi_hmac_wipe(void *p, size_t n);

#endif /* MXI_CORE_H */
