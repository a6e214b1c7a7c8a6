/* The MACs of sealed mode (extension/README.md, "Wire format"): every
 * message is a sequence of fields, each its 4-byte big-endian length and
 * its bytes, starting with a domain tag, and the MAC is HMAC-SHA256 with
 * the key the server holds in its key file.  The arithmetic is OpenSSL's
 * (libcrypto, which libpq links already: EVP_MAC, or HMAC_CTX before
 * OpenSSL 3); this file only lays out the bytes.  tests/unit/test_hmac.c recomputes the README's test vector. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/params.h>
#endif

#include "core/core.h"

#define TAG_CONTEXT "myappctx_seal/v1/context"
#define TAG_OPEN    "myappctx_seal/v1/open"
#define TAG_KEY_ID  "myappctx_seal/v1/key_id"

/* Messages up to this size are laid out on the stack; a unit's context is
 * far smaller unless it carries large metadata or audit text. */
#define STACK_MESSAGE 1024

/* A keyed HMAC-SHA256, initialised once per connection and re-initialised
 * with the same key for each message: OpenSSL 3 reuses the key when
 * EVP_MAC_init() gets none, which spares the algorithm fetch and the key
 * schedule of a one-shot HMAC() per unit (a third of its cost alone, more
 * with many threads, which contend in the fetch).  The key lives inside
 * OpenSSL's context, which wipes it when freed. */
struct mxi_hmac_key {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MAC_CTX *ctx;
#else
    HMAC_CTX *ctx;
#endif
};

struct mxi_hmac_key *
mxi_hmac_key_new(const unsigned char *key, size_t key_len)
{
    struct mxi_hmac_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    k->ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end() };
    if (k->ctx == NULL || !EVP_MAC_init(k->ctx, key, key_len, params)) {
#else
    k->ctx = HMAC_CTX_new();
    if (k->ctx == NULL || !HMAC_Init_ex(k->ctx, key, (int)key_len, EVP_sha256(), NULL)) {
#endif
        mxi_hmac_key_free(k);
        return NULL;
    }
    return k;
}

void
mxi_hmac_key_free(struct mxi_hmac_key *k)
{
    if (k == NULL)
        return;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MAC_CTX_free(k->ctx);
#else
    HMAC_CTX_free(k->ctx);
#endif
    free(k);
}

static bool
mac_message(struct mxi_hmac_key *k, const unsigned char *msg, size_t len,
            unsigned char out[MXI_HMAC_LEN])
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    size_t out_len = 0;
    return EVP_MAC_init(k->ctx, NULL, 0, NULL) && EVP_MAC_update(k->ctx, msg, len) &&
           EVP_MAC_final(k->ctx, out, &out_len, MXI_HMAC_LEN) && out_len == MXI_HMAC_LEN;
#else
    unsigned int out_len = 0;
    return HMAC_Init_ex(k->ctx, NULL, 0, NULL, NULL) && HMAC_Update(k->ctx, msg, len) &&
           HMAC_Final(k->ctx, out, &out_len) && out_len == MXI_HMAC_LEN;
#endif
}

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
mac_fields(struct mxi_hmac_key *k, const void *const *data, const size_t *len, size_t n,
           unsigned char out[MXI_HMAC_LEN])
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
    bool ok = mac_message(k, buf, total, out);
    /* The message holds no secret, but the context it carries is nobody
     * else's business once it has been sent. */
    OPENSSL_cleanse(buf, total);
    if (buf != small)
        free(buf);
    return ok;
}

bool
mxi_hmac_context(struct mxi_hmac_key *k, const unsigned char stream[MXI_HMAC_STREAM_LEN],
                 int64_t counter, bool local, const char *const fields[MXI_HMAC_CONTEXT_FIELDS],
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
    return mac_fields(k, data, len, 4 + MXI_HMAC_CONTEXT_FIELDS, out);
}

bool
mxi_hmac_open(struct mxi_hmac_key *k, bool bind_backend, unsigned char out[MXI_HMAC_LEN])
{
    const char *bind = bind_backend ? "backend" : "any";
    const void *data[2] = { TAG_OPEN, bind };
    size_t len[2] = { strlen(TAG_OPEN), strlen(bind) };
    return mac_fields(k, data, len, 2, out);
}

bool
mxi_hmac_key_id(struct mxi_hmac_key *k, char out[MXI_HMAC_KEY_ID_SIZE])
{
    unsigned char mac[MXI_HMAC_LEN];
    const void *data[1] = { TAG_KEY_ID };
    size_t len[1] = { strlen(TAG_KEY_ID) };
    if (!mac_fields(k, data, len, 1, mac))
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
