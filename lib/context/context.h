/* lib/context: the application context -- setting it (set.c), reading it
 * back (read.c), the audit context (audit.c) and impersonation
 * (impersonation.c).  codec.c holds what they share: argument checks,
 * parameter encoding and decoding of what the server sends back. */
#ifndef MXI_CONTEXT_H
#define MXI_CONTEXT_H

#include "exec/exec.h"

/* Refuses a NULL pointer (unless allow_null) and the nil UUID: a nil id is
 * almost always a field the caller forgot to fill (MYAPPCTX_CONTEXT_INIT). */
int mxi_codec_check_uuid(const myappctx_uuid *uuid, bool allow_null, const char *argname,
                       const char *what, myappctx_error *err);

/* The bound-parameter form of an optional UUID: its canonical text in @buf,
 * or NULL (SQL NULL) when @uuid is NULL. */
const char *mxi_codec_uuid_param(const myappctx_uuid *uuid, char buf[MYAPPCTX_UUID_BUFSIZE]);

/* Optional label (role, session id): NULL allowed, otherwise 1..max_len
 * bytes of UTF-8.  '' is refused because every reader reports '' as unset,
 * so it would not read back as what was written. */
int mxi_codec_check_label(const char *value, size_t max_len, const char *argname,
                        const char *what, myappctx_error *err);

/* Serializes a JSON object compactly for binding as text.  EINVAL when it
 * is not an object, cannot be serialized, is longer than max_len or holds
 * U+0000.  *out is freed with free(). */
int mxi_codec_dump_object(const json_t *value, size_t max_len, const char *argname,
                        const char *what, char **out, myappctx_error *err);

/* mxi_exec_one() for the readers: a stored value the server cannot cast
 * (SQLSTATE 22P02) is MYAPPCTX_EMALFORMED instead of a generic server error. */
int mxi_codec_read(myappctx_conn *conn, const char *what, const char *sql, int nparams,
                 const char *const *params, PGresult **out_res, const char **out_value,
                 myappctx_error *err);

/* Reads one uuid value (as text) into *out / *is_set. */
int mxi_codec_read_uuid(myappctx_conn *conn, const char *what, const char *sql,
                      myappctx_uuid *out, int *is_set, myappctx_error *err);

/* Parses a UUID the server sent; MYAPPCTX_EMALFORMED naming @field otherwise. */
int mxi_codec_parse_uuid(const char *text, const char *what, const char *field,
                       myappctx_uuid *out, myappctx_error *err);

/* Parses JSON text the server sent that must be an object (new reference in
 * *out); MYAPPCTX_EMALFORMED otherwise, MYAPPCTX_ENOMEM when jansson fails. */
int mxi_codec_parse_object(const char *text, const char *what, json_t **out,
                         myappctx_error *err);

/* ---- sealed.c: sealed mode (myappctx/seal.h) ---------------------------- */

/* One myappctx_seal.set_context() call on a sealed connection (after
 * mxi_conn_ready(); opens the stream if none is open): the seven fields
 * user, tenant, role, session id, metadata, audit reason, audit ticket ('' for
 * absent ones), @local or session scope.  On MX004 outside a transaction
 * block it is sent once more on a new stream. */
int mxi_sealed_set(myappctx_conn *conn, bool local, const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
                   const char *what, myappctx_error *err);

/* The value the server last reported for the parameter @name ("" when none):
 * under the seal every context variable is reported. */
const char *mxi_sealed_reported(const myappctx_conn *conn, const char *name);

/* The audit reason and ticket in effect (from the reported
 * myapp.audit_context; "" when unset), malloc'd. */
int mxi_sealed_audit_in_effect(const myappctx_conn *conn, char **out_reason, char **out_ticket,
                               const char *what, myappctx_error *err);

/* Under the seal the server reports the session's myapp.context_metadata
 * to the client (ParameterStatus), as jsonb prints it, and libpq drops the
 * connection on a ParameterStatus message over 30000 bytes: session-level
 * metadata is kept below this many bytes as stored. */
#define MXI_SEALED_METADATA_MAX 29000

/* An upper bound of the length of @v as jsonb's text output prints it
 * (keys and members separated by ", " and ": ", strings escaped, numbers
 * as numeric prints them). */
size_t mxi_sealed_stored_size(const json_t *v);

#endif /* MXI_CONTEXT_H */
