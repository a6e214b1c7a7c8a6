/* lib/api: thin typed wrappers over the schema's SQL functions -- the
 * application settings (settings.c), session configuration
 * (session_config.c), connection validation and lifecycle (lifecycle.c),
 * tenant checks and rate limiting (security.c), the installed schema's
 * version (schema_version.c).  Each is a bound-parameter
 * call through lib/exec's helpers; argument checks come from lib/core. */
#ifndef MXI_API_H
#define MXI_API_H

#include "exec/exec.h"

/* ---- schema_version.c ----------------------------------------------------- */

/* Compares the schema installed in the database (api.schema_version(), one
 * query; one more on the catalog when that function is missing) with the
 * version this library embeds.  MYAPPCTX_OK; MYAPPCTX_ESCHEMA "<what>: ...;
 * <advice>", the advice also in err->hint, for a schema missing, older,
 * newer, or that this role may not read (SQLSTATE 42501 kept); or the
 * query's own error. */
int mxi_schema_version_check(myappctx_conn *conn, const char *what, myappctx_error *err);

#endif /* MXI_API_H */
