/* libFuzzer target: JSON metadata from callers (serialized for binding) and
 * JSON objects sent back by the server (context, audit, validation).
 * Properties: never crashes or leaks; serialized metadata parses back to an
 * equal object; anything accepted from the server is an object. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    myappctx_error err;
    json_t *in = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (in != NULL) {
        char *text = NULL;
        int rc = mxi_codec_dump_object(in, 65536, "metadata", "fuzz", &text, &err);
        if (rc == MYAPPCTX_OK) {
            if (!json_is_object(in) || text == NULL || strlen(text) > 65536)
                __builtin_trap();
            json_t *back = json_loads(text, 0, NULL);
            if (back == NULL || !json_equal(in, back))
                __builtin_trap();
            json_decref(back);
        } else if (rc != MYAPPCTX_EINVAL && rc != MYAPPCTX_ENOMEM) {
            __builtin_trap();
        }
        free(text);
        json_decref(in);
    }

    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    json_t *obj = NULL;
    if (mxi_codec_parse_object(s, "fuzz", &obj, &err) == MYAPPCTX_OK) {
        if (!json_is_object(obj))
            __builtin_trap();
        json_decref(obj);
    }
    free(s);
    return 0;
}
