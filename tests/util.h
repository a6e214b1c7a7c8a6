/* Forwards to the one header of the test helpers.  Kept only because
 * tests/unit/test_validate.c, which another change owns, still includes
 * "../util.h"; new code includes "testutil.h" (tests/lib/). */
#ifndef MYAPPCTX_TEST_UTIL_FORWARD_H
#define MYAPPCTX_TEST_UTIL_FORWARD_H
#include "lib/testutil.h"
#endif
