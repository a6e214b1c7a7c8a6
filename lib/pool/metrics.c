/* The pool's histograms (myappctx_pool_stats: acquire_wait, use_time,
 * create_time): fixed buckets, so that an observation is a few compares
 * and three increments under the lock its caller already holds -- acquire's
 * and release's one lock round, the background thread's after a connect --
 * and a snapshot is a plain copy.  The bounds live here; the observation,
 * inline, in pool.h (mxi_metrics_add_locked()). */
#include "config.h"

#include "pool/pool.h"

const uint64_t mxi_metrics_bounds_us[MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1] =
    MYAPPCTX_POOL_HISTOGRAM_BOUNDS_US;
