/* libFuzzer target: typed reading of stored setting values and numbers in
 * server results (boolean, integer, decimal).
 * Properties: never crashes; accepted integers agree with strtoll and
 * accepted decimals with strtod in the C locale; booleans are 0 or 1. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    int b = 7;
    if (mxi_parse_bool(s, &b) && b != 0 && b != 1)
        __builtin_trap();

    long long v = 0;
    if (mxi_parse_int64(s, &v)) {
        char *end;
        errno = 0;
        long long ref = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0' || ref != v)
            __builtin_trap();
    }

    double d = 0;
    if (mxi_parse_decimal(s, &d)) {
        char *end;
        double ref = strtod(s, &end);      /* the fuzzer runs in the C locale */
        if (*end != '\0' || ref != d)     /* correctly rounded: the same double */
            __builtin_trap();
    }
    free(s);
    return 0;
}
