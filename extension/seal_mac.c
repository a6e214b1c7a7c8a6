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

/* Messages up to this size are encoded on the stack (a unit's context is
 * a few hundred bytes); larger ones (big metadata) in palloc'd memory. */
#define STACK_MESSAGE 1024

void
seal_mac_compute(const SealKey *key, const SealField *fields, int nfields,
				 uint8 out[SEAL_MAC_LEN])
{
	pg_hmac_ctx *ctx;
	const char *failure = NULL;
	uint8		small[STACK_MESSAGE];
	uint8	   *msg = small;
	size_t		total = 0;
	size_t		pos = 0;

	/* The whole message in one buffer, MAC'd with one update: each update
	 * is a round through OpenSSL's dispatch, and a unit has 23 fields and
	 * length prefixes.  The bytes are the same as field by field. */
	for (int i = 0; i < nfields; i++)
		total += 4 + fields[i].len;
	if (total > sizeof(small))
		msg = palloc(total);
	for (int i = 0; i < nfields; i++)
	{
		put_be32(msg + pos, fields[i].len);
		if (fields[i].len > 0)
			memcpy(msg + pos + 4, fields[i].data, fields[i].len);
		pos += 4 + fields[i].len;
	}

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("myappctx_seal: could not create an HMAC context")));

	if (pg_hmac_init(ctx, key->bytes, key->len) < 0 ||
		pg_hmac_update(ctx, msg, total) < 0 ||
		pg_hmac_final(ctx, out, SEAL_MAC_LEN) < 0)
		failure = pg_hmac_error(ctx);
	if (msg != small)
		pfree(msg);

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
