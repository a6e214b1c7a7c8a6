/* The sealed-mode key as an application holds it: decoded from the text of
 * the server's key file, and its fingerprint (myappctx/seal.h). */
#include "config.h"

#include <string.h>

#include "core/core.h"

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

MYAPPCTX_API int
myappctx_seal_key_from_hex(unsigned char out[MYAPPCTX_SEAL_KEY_MAX], size_t *out_len,
                           const char *hex, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, out_len);
    MXI_ERROR_REQUIRE_ARG(err, hex);
    const char *p = hex;
    while (is_space(*p))
        p++;
    size_t n = 0;
    while (hex_digit(p[n]) >= 0 && n <= 2 * MYAPPCTX_SEAL_KEY_MAX)
        n++;
    const char *rest = p + n;
    while (is_space(*rest))
        rest++;
    /* The message describes the text, never repeats it: it is a secret. */
    if (*rest != '\0' || n < 2 * MYAPPCTX_SEAL_KEY_MIN || n > 2 * MYAPPCTX_SEAL_KEY_MAX ||
        n % 2 != 0)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument 'hex' must be %d..%d hex digits (an even number), "
                             "optionally surrounded by white space", __func__,
                             2 * MYAPPCTX_SEAL_KEY_MIN, 2 * MYAPPCTX_SEAL_KEY_MAX);
    for (size_t i = 0; i < n / 2; i++)
        out[i] = (unsigned char)(hex_digit(p[2 * i]) << 4 | hex_digit(p[2 * i + 1]));
    *out_len = n / 2;
    return MYAPPCTX_OK;
}

MYAPPCTX_API int
myappctx_seal_key_id(char out[MYAPPCTX_SEAL_KEY_ID_SIZE], const unsigned char *key,
                     size_t key_len, myappctx_error *err)
{
    MXI_ERROR_REQUIRE_ARG(err, out);
    MXI_ERROR_REQUIRE_ARG(err, key);
    if (key_len < MYAPPCTX_SEAL_KEY_MIN || key_len > MYAPPCTX_SEAL_KEY_MAX)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "%s: argument 'key_len' is %zu, not %d..%d", __func__, key_len,
                             MYAPPCTX_SEAL_KEY_MIN, MYAPPCTX_SEAL_KEY_MAX);
    struct mxi_hmac_key *k = mxi_hmac_key_new(key, key_len);
    bool ok = k != NULL && mxi_hmac_key_id(k, out);
    mxi_hmac_key_free(k);
    if (!ok)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: HMAC-SHA256 failed", __func__);
    return MYAPPCTX_OK;
}
