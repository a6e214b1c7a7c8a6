/* myappctx_seal: context variables that only a MAC can set.
 *
 * _PG_init turns every context variable (lib/core/context_vars.h, included
 * below: the one list) into a real parameter that only a superuser context
 * may set (PGC_SUSET) and that is reported to the client (GUC_REPORT), turns
 * the application settings named in myappctx_seal.settings into ordinary
 * user-settable parameters, and reserves the "myapp" prefix: no other
 * myapp.* name can be created, by SET, set_config(), ALTER ROLE ... SET or a
 * startup option.  The context variables are then set only by C code here,
 * after the HMAC-SHA256 of every field verified against a key the database
 * session cannot read (myappctx_seal.key_file), for a stream issued by this
 * server with a counter above the stream's last one (seal_stream.c).
 *
 * The library does nothing unless it was preloaded.  Loaded on demand (the
 * first call of one of its functions in a session, or LOAD), it defines no
 * parameter, reserves nothing, and every function refuses with MX007: a
 * half-sealed session -- context forged before the load, sealed after --
 * would promise what it cannot keep.
 *
 * README.md beside this file is the specification: wire format, replay
 * rule, SQLSTATEs, key handling, the schema functions that change. */
#include "seal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "context_vars.h"

PG_MODULE_MAGIC;

/* The schema's own code for an argument refused by the server (README of
 * the library: MYAPPCTX_EBADARG); used for setting keys, as
 * api.set_app_setting() does. */
#define SEAL_ERRCODE_SCHEMA_BADARG	MAKE_SQLSTATE('P','0','0','5','8')

/* ---- the context variables ---- */

#define CV_ENUM(n, kind) CV_##n,
#define CV_NAME(n, kind) "myapp." #n,
#define CV_SHORT(n, kind) #n,
enum
{
	MXI_CONTEXT_VARS(CV_ENUM)
	CV_COUNT
};
static const char *const context_names[CV_COUNT] = {MXI_CONTEXT_VARS(CV_NAME)};
static const char *const context_short[CV_COUNT] = {MXI_CONTEXT_VARS(CV_SHORT)};
static char *context_values[CV_COUNT];

/* Field limits: the library's own (include/myappctx/context.h, audit.h),
 * enforced again here because a MAC proves who sent a value, not that it
 * is sane. */
#define ROLE_MAX		63
#define SESSION_ID_MAX	256
#define METADATA_MAX	65536
#define AUDIT_TEXT_MAX	1024

/* ---- state ---- */

SealMode	seal_mode = SEAL_INERT;
int			seal_max_streams = 16384;

static char *key_file_setting;
static SealKey *seal_key;		/* the "extra" of key_file; NULL: no key */
static char *preset_settings;

#define MAX_PRESET_SETTINGS 256
static char *preset_values[MAX_PRESET_SETTINGS];

static shmem_request_hook_type prev_shmem_request_hook;
static shmem_startup_hook_type prev_shmem_startup_hook;

void		_PG_init(void);

/* ---- setting keys ---- */

/* The schema's rule (private.is_valid_setting_key): ^[a-z][a-z0-9_]{0,62}$
 * and not a context variable name. */
static bool
valid_setting_key(const char *key)
{
	size_t		len = strlen(key);

	if (len < 1 || len > 63 || key[0] < 'a' || key[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++)
	{
		char		c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	for (int i = 0; i < CV_COUNT; i++)
	{
		if (strcmp(key, context_short[i]) == 0)
			return false;
	}
	return true;
}

static bool
check_settings_list(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *keys;
	ListCell   *lc;

	if (!SplitIdentifierString(raw, ',', &keys))
	{
		GUC_check_errdetail("List syntax is invalid.");
		pfree(raw);
		return false;
	}
	if (list_length(keys) > MAX_PRESET_SETTINGS)
	{
		GUC_check_errdetail("At most %d settings can be declared.", MAX_PRESET_SETTINGS);
		list_free(keys);
		pfree(raw);
		return false;
	}
	foreach(lc, keys)
	{
		const char *key = lfirst(lc);

		if (!valid_setting_key(key))
		{
			GUC_check_errdetail("\"%s\" is not a valid setting key: keys match "
								"^[a-z][a-z0-9_]{0,62}$ and are not context variable names.",
								key);
			list_free(keys);
			pfree(raw);
			return false;
		}
	}
	list_free(keys);
	pfree(raw);
	return true;
}

/* Whether a real (not placeholder) parameter of this name exists. */
static bool
parameter_defined(const char *name)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();

	for (int i = 0; i < n; i++)
	{
		if (pg_strcasecmp(vars[i]->name, name) == 0)
			return (vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) == 0;
	}
	return false;
}

/* Declares myapp.<key> for every key of myappctx_seal.settings: ordinary
 * user-settable parameters, as the application settings are without the
 * extension.  Declared here, at load, so that they exist in every process
 * (also in parallel workers, which restore the leader's values) and so that
 * ALTER ROLE ... SET myapp.<key> and role defaults keep working. */
static void
define_preset_settings(void)
{
	char	   *raw = pstrdup(preset_settings != NULL ? preset_settings : "");
	List	   *keys;
	ListCell   *lc;
	int			n = 0;

	if (!SplitIdentifierString(raw, ',', &keys))
		keys = NIL;				/* the check hook refused it already */
	foreach(lc, keys)
	{
		const char *key = lfirst(lc);
		char	   *name;

		if (!valid_setting_key(key) || n >= MAX_PRESET_SETTINGS)
			continue;
		name = psprintf("myapp.%s", key);
		/* A placeholder (postgresql.conf, or a role default applied before
		 * session_preload_libraries) becomes the real parameter here. */
		if (!parameter_defined(name))
			DefineCustomStringVariable(name,
									   "Application setting declared in myappctx_seal.settings.",
									   NULL, &preset_values[n++], "",
									   PGC_USERSET, GUC_NOT_IN_SAMPLE,
									   NULL, NULL, NULL);
		pfree(name);
	}
	list_free(keys);
	pfree(raw);
}

/* ---- the key ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the key file: 64 to 128 hex digits (32 to 64 bytes), surrounding
 * white space allowed, nothing else; a regular file without group or world
 * access.  Returns NULL, or the reason it is unusable. */
static const char *
read_key_file(const char *path, SealKey *key)
{
	char		buf[1024];
	ssize_t		n;
	size_t		got = 0;
	struct stat st;
	int			fd;
	size_t		start,
				end,
				ndigits;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return psprintf("could not open key file \"%s\": %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
	{
		int			e = errno;

		close(fd);
		return psprintf("could not stat key file \"%s\": %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		return psprintf("key file \"%s\" is not a regular file", path);
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		close(fd);
		return psprintf("key file \"%s\" has group or world access; it must be "
						"readable by the server's user only (chmod 0600)", path);
	}
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) != 0)
	{
		if (n < 0)
		{
			int			e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return psprintf("could not read key file \"%s\": %s", path, strerror(e));
		}
		got += n;
	}
	close(fd);
	if (got == sizeof(buf))
	{
		explicit_bzero(buf, sizeof(buf));
		return psprintf("key file \"%s\" is too long", path);
	}

	start = 0;
	while (start < got && isspace((unsigned char) buf[start]))
		start++;
	end = got;
	while (end > start && isspace((unsigned char) buf[end - 1]))
		end--;
	ndigits = end - start;
	if (ndigits < 2 * SEAL_KEY_MIN || ndigits > 2 * SEAL_KEY_MAX || ndigits % 2 != 0)
	{
		explicit_bzero(buf, sizeof(buf));
		return psprintf("key file \"%s\" must hold %d to %d hex digits (%d to %d bytes), "
						"an even number", path, 2 * SEAL_KEY_MIN, 2 * SEAL_KEY_MAX,
						SEAL_KEY_MIN, SEAL_KEY_MAX);
	}
	for (size_t i = 0; i < ndigits; i += 2)
	{
		int			hi = hexval((unsigned char) buf[start + i]);
		int			lo = hexval((unsigned char) buf[start + i + 1]);

		if (hi < 0 || lo < 0)
		{
			explicit_bzero(buf, sizeof(buf));
			explicit_bzero(key, sizeof(*key));
			return psprintf("key file \"%s\" holds a character that is not a hex digit", path);
		}
		key->bytes[i / 2] = (uint8) (hi << 4 | lo);
	}
	key->len = (int) (ndigits / 2);
	explicit_bzero(buf, sizeof(buf));
	return NULL;
}

/* Runs wherever the value is (re)applied: at load, in the postmaster and
 * every backend at each SIGHUP (so rewriting the file and reloading rotates
 * the key), and for ALTER SYSTEM.  An unusable file keeps the previous key,
 * as PostgreSQL does for a bad ssl_key_file at reload; the server log says
 * why. */
static bool
check_key_file(char **newval, void **extra, GucSource source)
{
	SealKey    *key;
	const char *why;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		*extra = NULL;
		return true;
	}
	key = malloc(sizeof(SealKey));	/* guc.c frees "extra" with free() */
	if (key == NULL)
	{
		GUC_check_errdetail("out of memory");
		return false;
	}
	why = read_key_file(*newval, key);
	if (why != NULL)
	{
		explicit_bzero(key, sizeof(*key));
		free(key);
		GUC_check_errdetail("%s", why);
		return false;
	}
	*extra = key;
	return true;
}

static void
assign_key_file(const char *newval, void *extra)
{
	seal_key = (SealKey *) extra;
}

/* ---- _PG_init ---- */

static void
seal_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	seal_stream_shmem_request();
}

static void
seal_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	seal_stream_shmem_startup();
}

void
_PG_init(void)
{
	GucContext	load_context;

	/* shared_preload_libraries: in the postmaster.  session_preload_libraries
	 * (and local_preload_libraries): inside InitPostgres() (PostgreSQL 15),
	 * still in InitProcessing mode, before the session has run any command.
	 * Anything else -- a function call, LOAD, a parallel worker restoring
	 * the leader's libraries -- happens in NormalProcessing, when the
	 * session may already have forged context. */
	if (process_shared_preload_libraries_in_progress)
		seal_mode = SEAL_SHARED;
	else if (IsInitProcessingMode())
		seal_mode = SEAL_BACKEND;
	else
	{
		seal_mode = SEAL_INERT;
		return;
	}

	/* Read once, at load: in the postmaster with shared_preload_libraries
	 * (PGC_POSTMASTER), at each backend's start with session_preload_libraries
	 * -- where PostgreSQL refuses to create PGC_POSTMASTER parameters, and
	 * a reload does reach every new backend (PGC_SIGHUP). */
	load_context = seal_mode == SEAL_SHARED ? PGC_POSTMASTER : PGC_SIGHUP;

	DefineCustomStringVariable("myappctx_seal.key_file",
							   "File holding the context MAC key (64 to 128 hex digits).",
							   "Read at load and at every configuration reload; "
							   "shown to superusers only.",
							   &key_file_setting, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							   check_key_file, assign_key_file, NULL);
	DefineCustomIntVariable("myappctx_seal.max_streams",
							"Streams the replay table holds; the least recently used is "
							"evicted beyond that.",
							NULL, &seal_max_streams, 16384, 16, 1 << 20,
							load_context, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("myappctx_seal.settings",
							   "Application settings declared as myapp.<key> parameters.",
							   "Comma-separated setting keys.  With the myapp prefix "
							   "reserved, no other myapp.<key> can exist.",
							   &preset_settings, "default_page_size",
							   load_context, GUC_LIST_INPUT | GUC_NOT_IN_SAMPLE,
							   check_settings_list, NULL, NULL);

	for (int i = 0; i < CV_COUNT; i++)
		DefineCustomStringVariable(context_names[i],
								   "Application context variable; set only through "
								   "myappctx_seal.set_context().",
								   NULL, &context_values[i], "",
								   PGC_SUSET, GUC_REPORT | GUC_NOT_IN_SAMPLE,
								   NULL, NULL, NULL);
	define_preset_settings();

	MarkGUCPrefixReserved("myapp");
	MarkGUCPrefixReserved("myappctx_seal");

	if (seal_mode == SEAL_SHARED)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = seal_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = seal_shmem_startup;
	}
}

/* ---- checks shared by the functions ---- */

static void
require_active(void)
{
	if (seal_mode == SEAL_INERT)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_NOT_PRELOADED),
				 errmsg("myappctx_seal is not preloaded in this session"),
				 errdetail("The library was loaded on demand, so the context variables "
						   "of this session are not protected."),
				 errhint("Add myappctx_seal to shared_preload_libraries (restart) or "
						 "session_preload_libraries (new sessions).")));
}

static const SealKey *
require_key(void)
{
	if (seal_key == NULL)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_NO_KEY),
				 errmsg("no myappctx_seal key is configured"),
				 errhint("Set myappctx_seal.key_file to a file of 64 to 128 hex digits, "
						 "mode 0600, and reload; the server log says why a file was refused.")));
	return seal_key;
}

static void
require_args(FunctionCallInfo fcinfo, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_BAD_FIELD),
					 errmsg("argument %s must not be NULL", names[i]),
					 errhint("An absent text field is the empty string.")));
	}
}

/* A session whose login role could forge context or read the key gains
 * nothing from the seal; refusing its streams makes that visible instead of
 * silently "protecting" it.  Roles the session could SET ROLE to count
 * through is_member_of_role(). */
static void
require_safe_session_role(void)
{
	Oid			role = GetSessionUserId();
	HeapTuple	tup;
	Form_pg_authid a;
	const char *why = NULL;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for role %u", role);
	a = (Form_pg_authid) GETSTRUCT(tup);
	if (a->rolsuper)
		why = "is a superuser: it can set every context variable without a MAC";
	else if (a->rolbypassrls)
		why = "has BYPASSRLS: row-level security does not apply to it";
	else if (a->rolcreaterole)
		why = "has CREATEROLE: it can grant itself pg_read_server_files";
	else if (a->rolreplication)
		why = "has REPLICATION: a base backup copies server files";
	ReleaseSysCache(tup);

	if (why == NULL && is_member_of_role(role, ROLE_PG_READ_SERVER_FILES))
		why = "can read server files (pg_read_server_files), so it can read the key";
	if (why == NULL && is_member_of_role(role, ROLE_PG_WRITE_SERVER_FILES))
		why = "can write server files (pg_write_server_files), so it can replace the key";
	if (why == NULL && is_member_of_role(role, ROLE_PG_EXECUTE_SERVER_PROGRAM))
		why = "can run server programs (pg_execute_server_program), so it can read the key";
	for (int i = 0; why == NULL && i < CV_COUNT; i++)
	{
		const char *reset_value = GetConfigOptionResetString(context_names[i]);

		if (pg_parameter_aclcheck(context_names[i], role, ACL_SET) == ACLCHECK_OK)
			why = psprintf("has SET privilege on parameter %s", context_names[i]);
		/* A default (ALTER ROLE/DATABASE ... SET by a superuser, or the
		 * server's configuration) is the value every reset returns to:
		 * "no context" would not be empty. */
		else if (reset_value != NULL && reset_value[0] != '\0')
			why = psprintf("starts its sessions with %s = '%s' (a role, database or "
						   "server default), so clearing the context does not empty it",
						   context_names[i], reset_value);
	}
	if (why != NULL)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_UNSAFE_ROLE),
				 errmsg("login role \"%s\" %s", GetUserNameFromId(role, false), why),
				 errdetail("The seal cannot protect the context of its sessions."),
				 errhint("Connect as an application role without these rights "
						 "(myappctx.setup_app_role() creates one).")));
}

static void
verify_mac(const SealField *fields, int nfields, const bytea *mac, const char *what)
{
	uint8		expected[SEAL_MAC_LEN];
	bool		ok;

	seal_mac_compute(require_key(), fields, nfields, expected);
	ok = VARSIZE_ANY_EXHDR(mac) == SEAL_MAC_LEN &&
		seal_mac_equal(expected, (const uint8 *) VARDATA_ANY(mac), SEAL_MAC_LEN);
	explicit_bzero(expected, sizeof(expected));
	if (!ok)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_BAD_MAC),
				 errmsg("%s MAC does not verify", what),
				 errdetail("The MAC was made with another key, or a field was changed "
						   "after it was made.")));
}

static void
bad_field(const char *field, const char *why)
{
	ereport(ERROR,
			(errcode(SEAL_ERRCODE_BAD_FIELD),
			 errmsg("sealed context field %s %s", field, why)));
}

/* Lower-case 8-4-4-4-12, as the library formats UUIDs: one spelling per
 * UUID, so the MAC'd bytes are the stored bytes. */
static bool
canonical_uuid(const char *s, bool *is_nil)
{
	*is_nil = true;
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
	{
		char		c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (c != '-')
				return false;
		}
		else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
		{
			if (c != '0')
				*is_nil = false;
		}
		else
			return false;
	}
	return true;
}

static void
set_context_var(int var, const char *value, GucAction action)
{
	(void) set_config_option_ext(context_names[var], value, PGC_SUSET, PGC_S_SESSION,
								 BOOTSTRAP_SUPERUSERID, action, true, ERROR, false);
}

/* What api.set_context() writes, without DateStyle dependence:
 * to_jsonb(now()) #>> '{}'. */
static char *
iso_now(void)
{
	return JsonEncodeDateTime(NULL, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
							  TIMESTAMPTZOID, NULL);
}

/* ---- SQL: myappctx_seal.open_stream(in_bind_backend, in_mac) ---- */

PG_FUNCTION_INFO_V1(myappctx_seal_open_stream);
Datum
myappctx_seal_open_stream(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"in_bind_backend", "in_mac"};
	bool		bind;
	const char *bind_word;
	SealField	fields[2];
	bytea	   *out;

	require_active();
	(void) require_key();
	require_args(fcinfo, names, lengthof(names));
	bind = PG_GETARG_BOOL(0);
	if (!bind && seal_mode != SEAL_SHARED)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_NOT_PRELOADED),
				 errmsg("streams not bound to a backend need myappctx_seal in "
						"shared_preload_libraries"),
				 errdetail("With session_preload_libraries each backend has its own replay "
						   "table, so a stream is known only to the backend that opened it."),
				 errhint("Use in_bind_backend => true on direct connections.")));

	bind_word = bind ? "backend" : "any";
	fields[0] = (SealField) {SEAL_TAG_OPEN, strlen(SEAL_TAG_OPEN)};
	fields[1] = (SealField) {bind_word, strlen(bind_word)};
	verify_mac(fields, lengthof(fields), PG_GETARG_BYTEA_PP(1), "open_stream");
	require_safe_session_role();

	out = palloc(VARHDRSZ + SEAL_STREAM_LEN);
	SET_VARSIZE(out, VARHDRSZ + SEAL_STREAM_LEN);
	seal_stream_open(bind, (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

/* ---- SQL: myappctx_seal.set_context(...) ---- */

enum
{
	F_USER, F_TENANT, F_ROLE, F_SESSION, F_METADATA, F_REASON, F_TICKET, F_COUNT
};

PG_FUNCTION_INFO_V1(myappctx_seal_set_context);
Datum
myappctx_seal_set_context(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {
		"in_stream", "in_counter", "in_is_local", "in_user_id", "in_tenant_id",
		"in_role", "in_session_id", "in_metadata", "in_audit_reason",
		"in_audit_ticket", "in_mac"
	};
	bytea	   *stream;
	int64		counter;
	bool		is_local;
	text	   *ftext[F_COUNT];
	char	   *f[F_COUNT];
	uint8		counter_be[8];
	const char *scope;
	SealField	fields[4 + F_COUNT];
	SealStreamResult r;
	bool		bound = false;
	int64		last = 0;
	bool		is_nil;
	const char *metadata = "";
	char	   *now_iso;
	const char *impersonating;
	GucAction	action;

	require_active();
	(void) require_key();
	require_args(fcinfo, names, lengthof(names));
	stream = PG_GETARG_BYTEA_PP(0);
	counter = PG_GETARG_INT64(1);
	is_local = PG_GETARG_BOOL(2);
	for (int i = 0; i < F_COUNT; i++)
		ftext[i] = PG_GETARG_TEXT_PP(3 + i);

	if (VARSIZE_ANY_EXHDR(stream) != SEAL_STREAM_LEN)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_UNKNOWN_STREAM),
				 errmsg("a stream id is %d bytes, not %d", SEAL_STREAM_LEN,
						(int) VARSIZE_ANY_EXHDR(stream))));

	/* 1. Authenticity: the MAC over every field, in the documented order. */
	for (int i = 0; i < 8; i++)
		counter_be[i] = (uint8) ((uint64) counter >> (56 - 8 * i));
	scope = is_local ? "local" : "session";
	fields[0] = (SealField) {SEAL_TAG_CONTEXT, strlen(SEAL_TAG_CONTEXT)};
	fields[1] = (SealField) {VARDATA_ANY(stream), SEAL_STREAM_LEN};
	fields[2] = (SealField) {counter_be, sizeof(counter_be)};
	fields[3] = (SealField) {scope, strlen(scope)};
	for (int i = 0; i < F_COUNT; i++)
		fields[4 + i] = (SealField) {VARDATA_ANY(ftext[i]), VARSIZE_ANY_EXHDR(ftext[i])};
	verify_mac(fields, lengthof(fields), PG_GETARG_BYTEA_PP(10), "context");

	/* 2. Freshness: a known stream of ours, and a counter not used before.
	 * From here on the counter is spent, whatever happens next. */
	r = seal_stream_advance((const uint8 *) VARDATA_ANY(stream), counter, &bound, &last);
	switch (r)
	{
		case SEAL_STREAM_OK:
			break;
		case SEAL_STREAM_UNKNOWN:
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_UNKNOWN_STREAM),
					 errmsg("stream is not known to this %s",
							seal_mode == SEAL_SHARED ? "server" : "backend"),
					 errdetail("It was not issued here, was evicted, belonged to a backend "
							   "that has exited, or the server has restarted since."),
					 errhint("Open a new stream with myappctx_seal.open_stream().")));
			break;
		case SEAL_STREAM_OTHER_OWNER:
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_UNKNOWN_STREAM),
					 errmsg("stream was issued to another database or login role")));
			break;
		case SEAL_STREAM_OTHER_BACKEND:
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_UNKNOWN_STREAM),
					 errmsg("stream is bound to another backend")));
			break;
		case SEAL_STREAM_REPLAY:
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_REPLAY),
					 errmsg("replayed context: counter " INT64_FORMAT
							" is not above " INT64_FORMAT ", the last accepted on this stream",
							counter, last)));
			break;
	}

	/* 3. The fields themselves. */
	for (int i = 0; i < F_COUNT; i++)
		f[i] = text_to_cstring(ftext[i]);
	if (!canonical_uuid(f[F_USER], &is_nil))
		bad_field("in_user_id", "is not a lower-case UUID (8-4-4-4-12)");
	if (is_nil)
		bad_field("in_user_id", "is the nil UUID");
	if (f[F_TENANT][0] != '\0' && !canonical_uuid(f[F_TENANT], &is_nil))
		bad_field("in_tenant_id", "is neither empty nor a lower-case UUID (8-4-4-4-12)");
	if (strlen(f[F_ROLE]) > ROLE_MAX)
		bad_field("in_role", "is longer than 63 bytes");
	if (strlen(f[F_SESSION]) > SESSION_ID_MAX)
		bad_field("in_session_id", "is longer than 256 bytes");
	if (strlen(f[F_METADATA]) > METADATA_MAX)
		bad_field("in_metadata", "is longer than 65536 bytes");
	if (strlen(f[F_REASON]) > AUDIT_TEXT_MAX || strlen(f[F_TICKET]) > AUDIT_TEXT_MAX)
		bad_field("in_audit_reason/in_audit_ticket", "is longer than 1024 bytes");
	if (!is_local && (f[F_REASON][0] != '\0' || f[F_TICKET][0] != '\0'))
		bad_field("in_audit_reason/in_audit_ticket",
				  "is set in session scope (audit context is transaction-local)");
	if (f[F_METADATA][0] != '\0')
	{
		/* Invalid JSON raises 22P02 here. */
		Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
															CStringGetDatum(f[F_METADATA])));

		if (!JB_ROOT_IS_OBJECT(jb))
			bad_field("in_metadata", "is not a JSON object");
		metadata = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	}
	if (!is_local && !bound)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_BAD_FIELD),
				 errmsg("session-scoped context on a stream not bound to a backend"),
				 errdetail("Behind a transaction pooler session state leaks to the next "
						   "client of the server connection."),
				 errhint("Use in_is_local => true inside the unit's transaction.")));

	/* 4. State: as api.set_context(), never over an impersonation. */
	impersonating = GetConfigOption(context_names[CV_original_user_id], false, false);
	if (impersonating != NULL && impersonating[0] != '\0')
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE('P','0','0','5','5')),
				 errmsg("Cannot set a new context while impersonating"),
				 errhint("Call api.end_impersonation() or myappctx_seal.clear_context() first.")));

	/* 5. Set every variable the context consists of: nothing of an earlier
	 * context shows through a sealed one. */
	action = is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET;
	now_iso = iso_now();
	set_context_var(CV_current_user_id, f[F_USER], action);
	set_context_var(CV_current_tenant_id, f[F_TENANT], action);
	set_context_var(CV_current_role, f[F_ROLE], action);
	set_context_var(CV_session_id, f[F_SESSION], action);
	set_context_var(CV_context_metadata, metadata, action);
	set_context_var(CV_context_created_at, now_iso, action);
	if (is_local)
	{
		const char *audit = "";

		if (f[F_REASON][0] != '\0' || f[F_TICKET][0] != '\0')
		{
			StringInfoData b;

			/* jsonb_build_object('reason', .., 'ticket', .., 'timestamp', now())::text */
			initStringInfo(&b);
			appendStringInfoString(&b, "{\"reason\": ");
			if (f[F_REASON][0] != '\0')
				escape_json(&b, f[F_REASON]);
			else
				appendStringInfoString(&b, "null");
			appendStringInfoString(&b, ", \"ticket\": ");
			if (f[F_TICKET][0] != '\0')
				escape_json(&b, f[F_TICKET]);
			else
				appendStringInfoString(&b, "null");
			appendStringInfo(&b, ", \"timestamp\": \"%s\"}", now_iso);
			audit = b.data;
		}
		set_context_var(CV_audit_context, audit, action);
	}
	else
	{
		/* As api.set_context(), cut to 63 bytes by us, not by the server. */
		char		appname[NAMEDATALEN];

		snprintf(appname, sizeof(appname), "myapp[user=%s,tenant=%s]",
				 f[F_USER], f[F_TENANT]);
		(void) set_config_option_ext("application_name", appname,
									 superuser() ? PGC_SUSET : PGC_USERSET,
									 PGC_S_SESSION, GetUserId(), GUC_ACTION_SET,
									 true, ERROR, false);
	}
	PG_RETURN_VOID();
}

/* ---- SQL: myappctx_seal.reset_variables() ---- */

/* RESETs every myapp.* parameter: with the prefix reserved, that is every
 * context variable and every declared setting -- a complete reset, which
 * PostgreSQL's placeholders do not allow without the extension.  Needs no
 * MAC: clearing context can only take rights away.  Returns how many were
 * reset. */
PG_FUNCTION_INFO_V1(myappctx_seal_reset_variables);
Datum
myappctx_seal_reset_variables(PG_FUNCTION_ARGS)
{
	struct config_generic **vars;
	int			n;
	List	   *names = NIL;
	ListCell   *lc;

	require_active();
	vars = get_guc_variables();
	n = GetNumConfigOptions();
	for (int i = 0; i < n; i++)
	{
		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) == 0 &&
			pg_strncasecmp(vars[i]->name, "myapp.", 6) == 0)
			names = lappend(names, pstrdup(vars[i]->name));
	}
	foreach(lc, names)
		(void) set_config_option_ext(lfirst(lc), NULL, PGC_SUSET, PGC_S_SESSION,
									 BOOTSTRAP_SUPERUSERID, GUC_ACTION_SET, true,
									 ERROR, false);
	PG_RETURN_INT32(list_length(names));
}

/* ---- SQL: myappctx_seal.apply_settings(in_keys, in_values) ---- */

/* What api.load_app_settings() does with each row, for declared keys:
 * session-level set_config() with the caller's rights, and the loaded keys
 * recorded in myapp.loaded_settings (a context variable, so set here).  A
 * key that is not declared cannot exist under the reserved prefix: it is
 * skipped with a WARNING naming it -- an error would let one bad row in
 * data.app_settings (which the application role may write) break every new
 * connection.  Returns how many were loaded. */
PG_FUNCTION_INFO_V1(myappctx_seal_apply_settings);
Datum
myappctx_seal_apply_settings(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"in_keys", "in_values"};
	Datum	   *kd,
			   *vd;
	bool	   *kn,
			   *vn;
	int			nk,
				nv;
	const char *loaded_now;
	List	   *loaded = NIL;
	char	   *raw;
	StringInfoData out;
	ListCell   *lc;
	int			count = 0;

	require_active();
	require_args(fcinfo, names, lengthof(names));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT,
					  &kd, &kn, &nk);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT,
					  &vd, &vn, &nv);
	if (nk != nv)
		ereport(ERROR,
				(errcode(SEAL_ERRCODE_SCHEMA_BADARG),
				 errmsg("in_keys has %d elements and in_values %d", nk, nv)));

	loaded_now = GetConfigOption(context_names[CV_loaded_settings], false, false);
	raw = pstrdup(loaded_now != NULL ? loaded_now : "");
	if (raw[0] != '\0')
	{
		char	   *tok;
		char	   *save = NULL;

		for (tok = strtok_r(raw, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
			loaded = lappend(loaded, tok);
	}

	for (int i = 0; i < nk; i++)
	{
		char	   *key;
		char	   *name;
		bool		seen = false;

		if (kn[i] || vn[i])
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_SCHEMA_BADARG),
					 errmsg("setting keys and values must not be NULL")));
		key = TextDatumGetCString(kd[i]);
		if (!valid_setting_key(key))
			ereport(ERROR,
					(errcode(SEAL_ERRCODE_SCHEMA_BADARG),
					 errmsg("invalid or reserved setting key: %s", key),
					 errhint("Keys match ^[a-z][a-z0-9_]{0,62}$ and must not be a context "
							 "variable name.")));
		name = psprintf("myapp.%s", key);
		if (!parameter_defined(name))
		{
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("setting \"%s\" is not declared in myappctx_seal.settings; "
							"not loaded", key),
					 errhint("Add it to myappctx_seal.settings in postgresql.conf.")));
			continue;
		}
		(void) set_config_option_ext(name, TextDatumGetCString(vd[i]),
									 superuser() ? PGC_SUSET : PGC_USERSET,
									 PGC_S_SESSION, GetUserId(), GUC_ACTION_SET,
									 true, ERROR, false);
		count++;
		foreach(lc, loaded)
		{
			if (strcmp(lfirst(lc), key) == 0)
				seen = true;
		}
		if (!seen)
			loaded = lappend(loaded, key);
	}

	initStringInfo(&out);
	foreach(lc, loaded)
	{
		if (out.len > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, lfirst(lc));
	}
	set_context_var(CV_loaded_settings, out.data, GUC_ACTION_SET);
	PG_RETURN_INT32(count);
}

/* ---- SQL: myappctx_seal.status() ---- */

PG_FUNCTION_INFO_V1(myappctx_seal_status);
Datum
myappctx_seal_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum(seal_mode == SEAL_SHARED ? "shared" :
									seal_mode == SEAL_BACKEND ? "backend" : "inert");
	values[1] = BoolGetDatum(seal_mode != SEAL_INERT && seal_key != NULL);
	if (seal_mode != SEAL_INERT && seal_key != NULL)
	{
		/* A fingerprint: HMAC(key, tag), 8 bytes.  No MAC of any other
		 * message can be derived from it. */
		uint8		mac[SEAL_MAC_LEN];
		char		hex[17];
		SealField	tag = {SEAL_TAG_KEY_ID, strlen(SEAL_TAG_KEY_ID)};

		seal_mac_compute(seal_key, &tag, 1, mac);
		for (int i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		values[2] = CStringGetTextDatum(hex);
	}
	else
		nulls[2] = true;
	if (seal_mode != SEAL_INERT)
	{
		values[3] = Int32GetDatum(seal_stream_count());
		values[4] = Int32GetDatum(seal_max_streams);
	}
	else
		nulls[3] = nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
