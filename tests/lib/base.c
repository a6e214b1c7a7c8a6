/* Clocks, sleeping and UUID bits shared with the stress programs (see
 * testbase.h).  No Check here. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "testbase.h"

uint64_t
tu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
tu_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void
tu_uuid_make_v4(myappctx_uuid *u)
{
    u->bytes[6] = (unsigned char)((u->bytes[6] & 0x0f) | 0x40);   /* version 4 */
    u->bytes[8] = (unsigned char)((u->bytes[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
}
