/* The pool's histograms (myappctx_pool_stats: acquire_wait, use_time,
 * create_time): fixed buckets, so that an observation is a few compares
 * and three increments under the lock its caller already holds -- acquire's
 * and release's one lock round, the background thread's after a connect --
 * and a snapshot is a plain copy. */
#include "config.h"

#include "pool/pool.h"

const uint64_t mxi_metrics_bounds_us[MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1] =
    MYAPPCTX_POOL_HISTOGRAM_BOUNDS_US;

void
mxi_metrics_add_locked(myappctx_pool_histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < MYAPPCTX_POOL_HISTOGRAM_BUCKETS - 1 && us > mxi_metrics_bounds_us[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum_us += us;
}
