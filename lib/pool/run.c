/* The common case in one call: acquire, run a unit of work, release. */
#include "config.h"

#include "pool/pool.h"

MYAPPCTX_API int
myappctx_pool_run_in_context(myappctx_pool *pool, const myappctx_txn_context *ctx,
                             const myappctx_stmt *stmts, size_t nstmts, PGresult **results,
                             long timeout_ms, myappctx_error *err)
{
    if (results != NULL)
        for (size_t i = 0; i < nstmts && i < MYAPPCTX_PIPELINE_MAX_STMTS; i++)
            results[i] = NULL;
    myappctx_conn *conn;
    myappctx_error inner;
    int rc = myappctx_pool_acquire(pool, &conn, timeout_ms, &inner);
    if (rc == MYAPPCTX_OK) {
        rc = myappctx_run_in_context(conn, ctx, stmts, nstmts, results, &inner);
        (void)myappctx_pool_release(pool, conn);
    }
    if (rc != MYAPPCTX_OK)
        mxi_error_wrap(err, rc, &inner, "%s: %s", __func__, inner.message);   /* keeps the diagnostics */
    return rc;
}
