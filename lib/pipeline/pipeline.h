/* lib/pipeline: statements in one network round trip (pipeline.c) and the
 * library's units of work built on it (unit.c): a context set for one
 * transaction, the caller's statements, and nothing of any earlier state.
 * Whoever owns the connection (the pool) is reached only through the owner
 * hooks of lib/conn/conn.h. */
#ifndef MXI_PIPELINE_H
#define MXI_PIPELINE_H

#include "context/context.h"

/* ---- pipeline.c ---------------------------------------------------------- */

enum mxi_pipeline_op {
    MXI_PIPELINE_EXEC,            /* sql with params (unnamed statement) */
    MXI_PIPELINE_PREPARE,         /* Parse sql as the named statement name */
    MXI_PIPELINE_EXEC_PREPARED,   /* the named statement name with params */
    MXI_PIPELINE_SYNC             /* ends the segment's implicit transaction */
};

struct mxi_pipeline_step {
    enum mxi_pipeline_op op;
    const char *sql;
    const char *name;
    int nparams;
    const char *const *params;
    const char *label;    /* in the error message: "<what>: <label>[ <index>]: ..." */
    long index;           /* -1: no index */
    PGresult **out;       /* non-NULL: receives the result on success */
};

/* Sends @n steps as one pipeline (the last must be a Sync) and reads every
 * result.  A step's successful result goes to *out when out is set (NULL
 * otherwise; the caller PQclear()s it, also when a later step failed).  On
 * failure *failed is the first failed step (SIZE_MAX when none: the
 * connection was lost or the pipeline could not be sent), @inner the
 * server's error as it came, and @err the labelled one. */
int mxi_pipeline_run(myappctx_conn *conn, const struct mxi_pipeline_step *steps, size_t n,
                     size_t *failed, myappctx_error *inner, const char *what,
                     myappctx_error *err);

/* ---- unit.c ------------------------------------------------------------ */

/* Writes the context statement every unit starts with (with the audit
 * context or not, with a baseline of @nbaseline other myapp.* variables)
 * into @buf; returns its length (cut when >= @size).  For
 * tests/unit/test_unit_sql.c. */
size_t mxi_unit_sql(char *buf, size_t size, bool audit, int nbaseline);
/* The same for a sealed connection when @sealed (@audit is then ignored:
 * the sealed statement always carries the audit fields). */
size_t mxi_unit_sealed_sql(char *buf, size_t size, bool audit, int nbaseline, bool sealed);

#endif /* MXI_PIPELINE_H */
