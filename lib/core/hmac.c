/* The MACs of sealed mode (extension/README.md, "Wire format"): every
 * message is a sequence of fields, each its 4-byte big-endian length and
 * its bytes, starting with a domain tag, and the MAC is HMAC-SHA256 with
 * the key the server holds in its key file.  The arithmetic is OpenSSL's
 * (libcrypto, which libpq links already); this file only lays out the
 * bytes.  tests/unit/test_hmac.c recomputes the README's test vector. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/core.h"

#define TAG_CONTEXT "myappctx_seal/v1/context"
#define TAG_OPEN    "myappctx_seal/v1/open"
#define TAG_KEY_ID  "myappctx_seal/v1/key_id"

/* Messages up to this size are laid out on the stack; a unit's context is
 * far smaller unless it carries large metadata or audit text. */
#define STACK_MESSAGE 1024

static unsigned char *
put_field(unsigned char *p, const void *data, size_t len)
{
    p[0] = (unsigned char)(len >> 24);
    p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
    if (len > 0)
        memcpy(p + 4, data, len);
    return p + 4 + len;
}

/* HMAC-SHA256 of @n fields; false only when memory or libcrypto fails. */
static bool
mac_fields(const unsigned char *key, size_t key_len, const void *const *data,
           const size_t *len, size_t n, unsigned char out[MXI_HMAC_LEN])
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += 4 + len[i];
    unsigned char small[STACK_MESSAGE];
    unsigned char *buf = total <= sizeof small ? small : malloc(total);
    if (buf == NULL)
        return false;
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        p = put_field(p, data[i], len[i]);
    unsigned int out_len = 0;
    bool ok = HMAC(EVP_sha256(), key, (int)key_len, buf, total, out, &out_len) != NULL &&
              out_len == MXI_HMAC_LEN;
    /* The message holds no secret, but the context it carries is nobody
     * else's business once it has been sent. */
    OPENSSL_cleanse(buf, total);
    if (buf != small)
        free(buf);
    return ok;
}

bool
mxi_hmac_context(const unsigned char *key, size_t key_len,
                 const unsigned char stream[MXI_HMAC_STREAM_LEN], int64_t counter, bool local,
                 const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
                 unsigned char out[MXI_HMAC_LEN])
{
    unsigned char be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (unsigned char)((uint64_t)counter >> (56 - 8 * i));
    const char *scope = local ? "local" : "session";
    const void *data[4 + MXI_HMAC_CONTEXT_FIELDS] = { TAG_CONTEXT, stream, be, scope };
    size_t len[4 + MXI_HMAC_CONTEXT_FIELDS] = { strlen(TAG_CONTEXT), MXI_HMAC_STREAM_LEN,
                                                sizeof be, strlen(scope) };
    for (int i = 0; i < MXI_HMAC_CONTEXT_FIELDS; i++) {
        data[4 + i] = fields[i];
        len[4 + i] = strlen(fields[i]);
    }
    return mac_fields(key, key_len, data, len, 4 + MXI_HMAC_CONTEXT_FIELDS, out);
}

bool
mxi_hmac_open(const unsigned char *key, size_t key_len, bool bind_backend,
              unsigned char out[MXI_HMAC_LEN])
{
    const char *bind = bind_backend ? "backend" : "any";
    const void *data[2] = { TAG_OPEN, bind };
    size_t len[2] = { strlen(TAG_OPEN), strlen(bind) };
    return mac_fields(key, key_len, data, len, 2, out);
}

bool
mxi_hmac_key_id(const unsigned char *key, size_t key_len, char out[MXI_HMAC_KEY_ID_SIZE])
{
    unsigned char mac[MXI_HMAC_LEN];
    const void *data[1] = { TAG_KEY_ID };
    size_t len[1] = { strlen(TAG_KEY_ID) };
    if (!mac_fields(key, key_len, data, len, 1, mac))
        return false;
    mxi_hmac_hex(out, mac, 8);
    return true;
}

void
mxi_hmac_hex(char *out, const unsigned char *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void
mxi_hmac_bytea(char *out, const unsigned char *bytes, size_t n)
{
    out[0] = '\\';
    out[1] = 'x';
    mxi_hmac_hex(out + 2, bytes, n);
}

void
mxi_hmac_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}
