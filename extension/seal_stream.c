/* The replay table: one entry per stream.
 *
 * A stream is a 16-byte random id issued by the server (open_stream), owned
 * by one database and one login role, optionally bound to the backend that
 * opened it, with the highest counter accepted so far.  A context MAC names
 * its stream and a counter; it is accepted only if the counter is above the
 * stream's last one, which it then becomes.  Ids are never reused and an
 * entry that is gone (evicted, its backend exited, the server restarted)
 * makes every MAC for that stream fail: forgetting a stream can cost the
 * client a new open_stream(), never let a MAC through twice.  That is why
 * eviction may be plain least-recently-used.
 *
 * SEAL_SHARED (shared_preload_libraries): the table lives in shared memory
 * under one LWLock, so a MAC is accepted at most once by the whole server,
 * whichever backend runs it (PgBouncer in transaction mode moves a client
 * between backends).  SEAL_BACKEND (session_preload_libraries): no shared
 * memory can be requested, so the table is this backend's; every stream is
 * bound to the backend that opened it.
 *
 * The counter update is not transactional: a unit that verified and then
 * rolled back has still used its counter.
 *
 * Nothing here raises an error while holding the lock. */
#include "seal.h"

#include <limits.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

typedef struct SealStreamEntry
{
	uint8		id[SEAL_STREAM_LEN];	/* hash key: must be first */
	int64		last_counter;
	uint64		last_used;		/* LRU tick */
	Oid			dbid;
	Oid			roleid;
	int			pid;			/* 0: not bound to a backend */
	TimestampTz proc_start;		/* with pid: that backend's start */
} SealStreamEntry;

typedef struct SealStreamShared
{
	LWLock	   *lock;
	uint64		tick;
} SealStreamShared;

#define SEAL_SHMEM_NAME "myappctx_seal streams"

static SealStreamShared *shared;	/* SEAL_SHARED: in shared memory */
static SealStreamShared local_state;	/* SEAL_BACKEND */
static HTAB *table;

/* Streams this backend bound to itself (SEAL_SHARED): removed at exit. */
static uint8 (*own_ids)[SEAL_STREAM_LEN];
static int	own_count;
static int	own_size;
static bool exit_hook_registered;

void
seal_stream_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(SealStreamShared)) +
						   hash_estimate_size(seal_max_streams,
											  sizeof(SealStreamEntry)));
	RequestNamedLWLockTranche("myappctx_seal", 1);
}

void
seal_stream_shmem_startup(void)
{
	HASHCTL		info;
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct(SEAL_SHMEM_NAME " state",
							 sizeof(SealStreamShared), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("myappctx_seal"))->lock;
		shared->tick = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = SEAL_STREAM_LEN;
	info.entrysize = sizeof(SealStreamEntry);
	table = ShmemInitHash(SEAL_SHMEM_NAME, seal_max_streams, seal_max_streams,
						  &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* The table for this mode, created on first use in SEAL_BACKEND. */
static SealStreamShared *
state(void)
{
	if (seal_mode == SEAL_SHARED)
	{
		if (shared == NULL || table == NULL)
			elog(ERROR, "myappctx_seal: shared stream table not initialized");
		return shared;
	}
	if (table == NULL)
	{
		HASHCTL		info;

		memset(&info, 0, sizeof(info));
		info.keysize = SEAL_STREAM_LEN;
		info.entrysize = sizeof(SealStreamEntry);
		info.hcxt = TopMemoryContext;
		table = hash_create("myappctx_seal streams (backend)", 64, &info,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return &local_state;
}

static void
lock(SealStreamShared *st)
{
	if (seal_mode == SEAL_SHARED)
		LWLockAcquire(st->lock, LW_EXCLUSIVE);
}

static void
unlock(SealStreamShared *st)
{
	if (seal_mode == SEAL_SHARED)
		LWLockRelease(st->lock);
}

/* Removes the least recently used entry.  Called with the lock held when
 * the table is full; O(max_streams), and only on open. */
static void
evict_one(void)
{
	HASH_SEQ_STATUS seq;
	SealStreamEntry *e;
	SealStreamEntry *victim = NULL;
	uint8		victim_id[SEAL_STREAM_LEN];

	hash_seq_init(&seq, table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (victim == NULL || e->last_used < victim->last_used)
			victim = e;
	}
	if (victim != NULL)
	{
		memcpy(victim_id, victim->id, SEAL_STREAM_LEN);
		hash_search(table, victim_id, HASH_REMOVE, NULL);
	}
}

static void
remove_own_streams(int code, Datum arg)
{
	if (own_count == 0 || shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < own_count; i++)
	{
		SealStreamEntry *e = hash_search(table, own_ids[i], HASH_FIND, NULL);

		/* Only if it is still ours: evicted ids are never reissued, but be
		 * exact anyway. */
		if (e != NULL && e->pid == MyProcPid && e->proc_start == MyStartTimestamp)
			hash_search(table, own_ids[i], HASH_REMOVE, NULL);
	}
	LWLockRelease(shared->lock);
	own_count = 0;
}

/* Remembers a stream bound to this backend so that it can be removed when
 * the backend exits.  Done before the entry exists, so that running out of
 * memory here cannot leave an entry nobody will remove. */
static void
remember_own(const uint8 id[SEAL_STREAM_LEN])
{
	if (!exit_hook_registered)
	{
		before_shmem_exit(remove_own_streams, (Datum) 0);
		exit_hook_registered = true;
	}
	if (own_count == own_size)
	{
		int			n = own_size == 0 ? 8 : own_size * 2;

		if (own_ids == NULL)
			own_ids = MemoryContextAlloc(TopMemoryContext, n * SEAL_STREAM_LEN);
		else
			own_ids = repalloc(own_ids, n * SEAL_STREAM_LEN);
		own_size = n;
	}
	memcpy(own_ids[own_count++], id, SEAL_STREAM_LEN);
}

void
seal_stream_open(bool bind_backend, uint8 out_id[SEAL_STREAM_LEN])
{
	SealStreamShared *st = state();
	SealStreamEntry *e = NULL;
	bool		found = true;

	/* SEAL_BACKEND: the table is this backend's; every stream is bound. */
	if (seal_mode == SEAL_BACKEND)
		bind_backend = true;

	for (int attempt = 0; attempt < 4 && found; attempt++)
	{
		if (!pg_strong_random(out_id, SEAL_STREAM_LEN))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("myappctx_seal: could not generate a random stream id")));
		if (seal_mode == SEAL_SHARED && bind_backend)
			remember_own(out_id);

		lock(st);
		if (hash_get_num_entries(table) >= seal_max_streams)
			evict_one();
		e = hash_search(table, out_id, HASH_ENTER_NULL, &found);
		if (e != NULL && !found)
		{
			e->last_counter = 0;
			e->last_used = ++st->tick;
			e->dbid = MyDatabaseId;
			e->roleid = GetSessionUserId();
			e->pid = bind_backend ? MyProcPid : 0;
			e->proc_start = bind_backend ? MyStartTimestamp : 0;
		}
		unlock(st);
		if (e == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("myappctx_seal: out of memory for the stream table")));
	}
	if (found)					/* four 128-bit collisions in a row */
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("myappctx_seal: could not issue a unique stream id")));
}

SealStreamResult
seal_stream_advance(const uint8 id[SEAL_STREAM_LEN], int64 counter,
					bool *out_bound, int64 *out_last)
{
	SealStreamShared *st = state();
	SealStreamEntry *e;
	SealStreamResult r;

	lock(st);
	e = hash_search(table, id, HASH_FIND, NULL);
	if (e == NULL)
		r = SEAL_STREAM_UNKNOWN;
	else if (e->dbid != MyDatabaseId || e->roleid != GetSessionUserId())
		r = SEAL_STREAM_OTHER_OWNER;
	else if (e->pid != 0 &&
			 (e->pid != MyProcPid || e->proc_start != MyStartTimestamp))
		r = SEAL_STREAM_OTHER_BACKEND;
	else if (counter <= e->last_counter)
	{
		r = SEAL_STREAM_REPLAY;
		*out_last = e->last_counter;
	}
	else
	{
		r = SEAL_STREAM_OK;
		e->last_counter = counter;
		e->last_used = ++st->tick;
		*out_bound = e->pid != 0;
	}
	unlock(st);
	return r;
}

int
seal_stream_count(void)
{
	SealStreamShared *st = state();
	long		n;

	lock(st);
	n = hash_get_num_entries(table);
	unlock(st);
	return n > INT_MAX ? INT_MAX : (int) n;
}
