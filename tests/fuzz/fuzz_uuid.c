/* libFuzzer target: UUID parsing (untrusted text from requests).
 * Properties: never crashes; a parsed UUID formats to the lower-case input;
 * parse and parsen agree on NUL-free input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "myappctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    myappctx_uuid u, v;
    myappctx_error err;
    char buf[MYAPPCTX_UUID_BUFSIZE];

    int rc = myappctx_uuid_parsen(&u, (const char *)data, size, &err);
    if (rc == MYAPPCTX_OK) {
        myappctx_uuid_format(&u, buf);
        for (size_t i = 0; i < size; i++)
            if (tolower(data[i]) != buf[i])
                __builtin_trap();
        if (myappctx_uuid_parse(&v, buf, NULL) != MYAPPCTX_OK || !myappctx_uuid_equal(&u, &v))
            __builtin_trap();
    } else if (rc != MYAPPCTX_EINVAL || err.code != MYAPPCTX_EINVAL || err.message[0] == '\0') {
        __builtin_trap();
    }
    /* The NUL-terminated entry point agrees when the input has no NUL. */
    if (memchr(data, 0, size) == NULL) {
        char *s = malloc(size + 1);
        if (s == NULL)
            return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        int rc2 = myappctx_uuid_parse(&v, s, NULL);
        free(s);
        if ((rc2 == MYAPPCTX_OK) != (rc == MYAPPCTX_OK))
            __builtin_trap();
    }
    return 0;
}
