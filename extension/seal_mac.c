/* The canonical encoding of a sealed message and its HMAC-SHA256.
 *
 * A message is a sequence of fields; each is written as its length (4 bytes,
 * big-endian, unsigned) followed by its bytes.  The length prefix makes the
 * encoding injective: no two different field sequences produce the same
 * bytes, so moving bytes from one field to the next (user "ab" + tenant "c"
 * versus user "a" + tenant "bc") changes the MAC.  The first field is always
 * a domain tag (SEAL_TAG_*), so a MAC made for one purpose never verifies
 * for another.
 *
 * The HMAC is PostgreSQL's own (common/hmac.h; OpenSSL underneath on every
 * build configured --with-openssl).  In the backend, pg_hmac_create()
 * registers the context with CurrentResourceOwner, so this must run inside
 * a transaction (every SQL-callable function does); nothing between create
 * and free can raise an error except the hmac calls themselves. */
#include "seal.h"

#include "common/hmac.h"

static void
put_be32(uint8 *dst, uint32 v)
{
	dst[0] = (uint8) (v >> 24);
	dst[1] = (uint8) (v >> 16);
	dst[2] = (uint8) (v >> 8);
	dst[3] = (uint8) v;
}

void
seal_mac_compute(const SealKey *key, const SealField *fields, int nfields,
				 uint8 out[SEAL_MAC_LEN])
{
	pg_hmac_ctx *ctx;
	const char *failure = NULL;

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("myappctx_seal: could not create an HMAC context")));

	if (pg_hmac_init(ctx, key->bytes, key->len) < 0)
		failure = pg_hmac_error(ctx);
	for (int i = 0; failure == NULL && i < nfields; i++)
	{
		uint8		len[4];

		put_be32(len, fields[i].len);
		if (pg_hmac_update(ctx, len, sizeof(len)) < 0 ||
			(fields[i].len > 0 &&
			 pg_hmac_update(ctx, fields[i].data, fields[i].len) < 0))
			failure = pg_hmac_error(ctx);
	}
	if (failure == NULL && pg_hmac_final(ctx, out, SEAL_MAC_LEN) < 0)
		failure = pg_hmac_error(ctx);

	if (failure != NULL)
	{
		char	   *msg = pstrdup(failure);

		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("myappctx_seal: HMAC-SHA256 failed: %s", msg)));
	}
	pg_hmac_free(ctx);
}

/* Constant time in the length: no early exit on the first difference, so
 * the time taken says nothing about how many leading bytes were right. */
bool
seal_mac_equal(const uint8 *a, const uint8 *b, size_t len)
{
	volatile uint8 diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}
