/* The part of the test helpers that needs neither Check nor a server:
 * clocks, sleeping and version-4 UUIDs.  Linked by every Check program
 * (through libtestutil.la, see testutil.h) and by the stress and failover
 * programs (tests/stress/), which are built without Check and report
 * violations instead of failing assertions.
 *
 * Nothing here asserts: a caller decides what a failure means. */
#ifndef MYAPPCTX_TEST_BASE_H
#define MYAPPCTX_TEST_BASE_H

#include <stdint.h>

#include "myappctx.h"

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tu_now_ns(void);

/* Sleeps @ms milliseconds (resumed after signals). */
void tu_sleep_ms(long ms);

/* Turns 16 random bytes into a version-4 (RFC 4122 variant) UUID. */
void tu_uuid_make_v4(myappctx_uuid *u);

#endif
