/* myappctx_seal: declarations shared by the extension's C files.
 *
 * seal.c       _PG_init, the parameters (context variables, key, settings),
 *              the SQL-callable functions
 * seal_mac.c   the canonical field encoding and HMAC-SHA256 (common/hmac.h)
 * seal_stream.c the replay table: streams, counters, eviction
 *
 * The design -- wire format, replay rule, SQLSTATEs, what PgBouncer does to
 * the guarantees -- is in README.md beside this file. */
#ifndef MYAPPCTX_SEAL_H
#define MYAPPCTX_SEAL_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* How the library was loaded (set once, in _PG_init). */
typedef enum SealMode
{
	SEAL_INERT,					/* loaded on demand: defines nothing, refuses */
	SEAL_BACKEND,				/* session_preload_libraries: per-backend table */
	SEAL_SHARED					/* shared_preload_libraries: shared table */
} SealMode;

extern SealMode seal_mode;
extern int	seal_max_streams;

/* SQLSTATEs of the MX class (README.md, "Refusals"). */
#define SEAL_ERRCODE_BAD_MAC		MAKE_SQLSTATE('M','X','0','0','1')
#define SEAL_ERRCODE_REPLAY			MAKE_SQLSTATE('M','X','0','0','2')
#define SEAL_ERRCODE_NO_KEY			MAKE_SQLSTATE('M','X','0','0','3')
#define SEAL_ERRCODE_UNKNOWN_STREAM	MAKE_SQLSTATE('M','X','0','0','4')
#define SEAL_ERRCODE_BAD_FIELD		MAKE_SQLSTATE('M','X','0','0','5')
#define SEAL_ERRCODE_UNSAFE_ROLE	MAKE_SQLSTATE('M','X','0','0','6')
#define SEAL_ERRCODE_NOT_PRELOADED	MAKE_SQLSTATE('M','X','0','0','7')

/* ---- seal_mac.c ---- */

#define SEAL_KEY_MIN	32
#define SEAL_KEY_MAX	64
#define SEAL_MAC_LEN	32
#define SEAL_STREAM_LEN 16

typedef struct SealKey
{
	int			len;
	uint8		bytes[SEAL_KEY_MAX];
} SealKey;

/* One field of a MAC'd message: encoded as a 4-byte big-endian length,
 * then the bytes. */
typedef struct SealField
{
	const void *data;
	uint32		len;
} SealField;

/* The domain tags: the first field of every message. */
#define SEAL_TAG_OPEN		"myappctx_seal/v1/open"
#define SEAL_TAG_CONTEXT	"myappctx_seal/v1/context"
#define SEAL_TAG_KEY_ID		"myappctx_seal/v1/key_id"

extern void seal_mac_compute(const SealKey *key, const SealField *fields,
							 int nfields, uint8 out[SEAL_MAC_LEN]);
extern bool seal_mac_equal(const uint8 *a, const uint8 *b, size_t len);

/* ---- seal_stream.c ---- */

typedef enum SealStreamResult
{
	SEAL_STREAM_OK,
	SEAL_STREAM_UNKNOWN,		/* never issued here, evicted, or its backend
								 * has exited */
	SEAL_STREAM_OTHER_OWNER,	/* issued to another database or login role */
	SEAL_STREAM_OTHER_BACKEND,	/* bound to another backend */
	SEAL_STREAM_REPLAY			/* counter not above the last accepted one */
} SealStreamResult;

extern void seal_stream_shmem_request(void);
extern void seal_stream_shmem_startup(void);
extern void seal_stream_open(bool bind_backend, uint8 out_id[SEAL_STREAM_LEN]);
extern SealStreamResult seal_stream_advance(const uint8 id[SEAL_STREAM_LEN],
											int64 counter, bool *out_bound,
											int64 *out_last);
extern int	seal_stream_count(void);

#endif							/* MYAPPCTX_SEAL_H */
