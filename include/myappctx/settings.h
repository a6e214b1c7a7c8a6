/**
 * @file myappctx/settings.h
 * Application settings (spec "Application-Specific Settings"): rows of
 * data.app_settings that api.load_app_settings() copies into `myapp.<key>`
 * session variables, read back with private.get_app_setting().
 *
 * Writing a setting (myappctx_setting_put()) changes the table only; a
 * session sees the new value after its next myappctx_settings_load().  The
 * getters read the session variable, so they return what was loaded (or
 * set with myappctx_config_set()), not what is in the table.
 *
 * Keys: a lower-case identifier matching ^[a-z][a-z0-9_]{0,62}$ that is not
 * the name of a context variable (listed in myappctx/session_config.h): a
 * setting with such a key would be loaded over the context.  Every function
 * checks the key before any round trip.
 *
 * Unset: a key that was never loaded, and a value of '' (PostgreSQL reads a
 * custom variable back as '' once it has existed), both read as unset.
 *
 * Threading: a myappctx_conn is used by one thread at a time; different
 * connections may be used concurrently.  Ownership: pointer arguments are
 * borrowed for the call only; what an `out` parameter receives is the
 * caller's, freed with the function its description names.  Each function
 * lists only its own codes; see myappctx/error.h for the common ones.
 */
#ifndef MYAPPCTX_SETTINGS_H
#define MYAPPCTX_SETTINGS_H

#include <myappctx/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest setting key, in bytes. */
#define MYAPPCTX_SETTING_KEY_MAX 63
/** Longest setting value (and default value) accepted, in bytes. */
#define MYAPPCTX_SETTING_VALUE_MAX 65536
/** Longest setting description accepted, in bytes. */
#define MYAPPCTX_SETTING_DESCRIPTION_MAX 4096

/**
 * Loads every application setting into this session (api.load_app_settings()):
 * each row of data.app_settings becomes the session variable `myapp.<key>`
 * until the connection closes or the context is cleared.
 *
 * Inside a transaction block the load is undone if the transaction rolls
 * back.
 *
 * @param conn            the connection
 * @param[out] out_count  if not NULL, receives the number of settings loaded
 * @param err             error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_ESESSIONSTATE (connection behind a
 *         transaction pooler).
 */
MYAPPCTX_API int myappctx_settings_load(myappctx_conn *conn, int *out_count,
                                        myappctx_error *err);

/**
 * Reads a loaded setting (private.get_app_setting()).
 *
 * @param conn           the connection
 * @param key            the setting key (see the file comment)
 * @param default_value  returned when the setting is unset; NULL for none.
 *                       At most MYAPPCTX_SETTING_VALUE_MAX bytes of UTF-8.
 *                       Borrowed for the call only.
 * @param[out] out       receives a NUL-terminated copy of the value (or of
 *                       @p default_value), or NULL when the setting is unset
 *                       and there is no default (or the default is '').  The
 *                       caller frees it with myappctx_free().  Set to NULL on
 *                       failure.
 * @param err            error details, or NULL
 * @return MYAPPCTX_OK or an error code.
 */
MYAPPCTX_API int myappctx_setting_get(myappctx_conn *conn, const char *key,
                                      const char *default_value, char **out,
                                      myappctx_error *err);

/**
 * Reads a loaded setting as a boolean.  Accepted like PostgreSQL's boolean
 * input: surrounding white space is ignored, then, case-insensitively,
 * true, yes, on, 1 (true) or false, no, off, 0 (false), and unique prefixes
 * such as "t", "n" or "of".
 *
 * To tell "unset" from a stored value, use myappctx_setting_get() with a
 * NULL default.
 *
 * @param conn           the connection
 * @param key            the setting key
 * @param default_value  used when the setting is unset (any non-zero is 1)
 * @param[out] out       receives 1 or 0; untouched on failure
 * @param err            error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EMALFORMED (the value is not a boolean; the
 *         message names the key and the value).
 */
MYAPPCTX_API int myappctx_setting_get_bool(myappctx_conn *conn, const char *key,
                                           int default_value, int *out,
                                           myappctx_error *err);

/**
 * Reads a loaded setting as a base-10 integer: an optional sign and digits,
 * nothing else (no white space, no hex, no exponent), within the range of
 * long long.
 *
 * @param conn           the connection
 * @param key            the setting key
 * @param default_value  used when the setting is unset
 * @param[out] out       receives the value; untouched on failure
 * @param err            error details, or NULL
 * @return MYAPPCTX_OK; MYAPPCTX_EMALFORMED (not an integer, or out of range;
 *         the message names the key and the value).
 */
MYAPPCTX_API int myappctx_setting_get_int(myappctx_conn *conn, const char *key,
                                          long long default_value, long long *out,
                                          myappctx_error *err);

/**
 * Inserts or updates a setting in data.app_settings (api.set_app_setting()).
 * It reaches sessions at their next myappctx_settings_load().  Storing ''
 * makes the setting read as unset.  Inside a transaction block the write
 * commits with that transaction.
 *
 * @param conn         the connection (its role needs INSERT and UPDATE on
 *                     data.app_settings, as the application role has)
 * @param key          the setting key
 * @param value        the value: at most MYAPPCTX_SETTING_VALUE_MAX bytes of
 *                     UTF-8, stored verbatim
 * @param description  a description (at most MYAPPCTX_SETTING_DESCRIPTION_MAX
 *                     bytes of UTF-8), or NULL to keep the stored one
 * @param err          error details, or NULL
 * @return MYAPPCTX_OK or an error code (MYAPPCTX_ESERVER 42501 without the
 *         table rights).
 */
MYAPPCTX_API int myappctx_setting_put(myappctx_conn *conn, const char *key,
                                      const char *value, const char *description,
                                      myappctx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_SETTINGS_H */
