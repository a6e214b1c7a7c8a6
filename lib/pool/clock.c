/* Monotonic time for the pool: wall-clock jumps must not expire or extend
 * waits, lifetimes or idle times. */
#include "config.h"

#include <time.h>

#include "pool/pool.h"

uint64_t
mxi_clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
mxi_clock_timespec(uint64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
}

uint64_t
mxi_clock_ms_to_ns(long ms)
{
    /* Saturate: a huge timeout means "practically forever", not overflow. */
    if (ms <= 0)
        return 0;
    if ((unsigned long)ms > UINT64_MAX / 4000000u)
        return UINT64_MAX / 4;
    return (uint64_t)ms * 1000000u;
}
