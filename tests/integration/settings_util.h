/* Helpers shared by the settings-area suites (test_settings, test_session_config,
 * test_lifecycle, test_security): unique names, raw-SQL context setup and
 * seeding as the superuser. */
#ifndef MYAPPCTX_TEST_SETTINGS_UTIL_H
#define MYAPPCTX_TEST_SETTINGS_UTIL_H

#include <stddef.h>

#include "../util.h"

/* Conninfo of the least-privileged application role. */
#define SU_APP_CONNINFO "user=app_service"

/* Opens a connection as app_service. */
myappctx_conn *su_app_connect(void);

/* Writes "<prefix>_<pid>_<counter>_<random hex>" (lower case, a valid
 * setting key and identifier) into buf. */
void su_unique(const char *prefix, char *buf, size_t size);

/* A fresh random version-4 UUID, as value and canonical text. */
void su_random_uuid(myappctx_uuid *out, char text[MYAPPCTX_UUID_BUFSIZE]);

/* Runs a parameterized statement and fails the test on error. */
void su_exec(myappctx_conn *conn, const char *sql, int nparams, const char *const *params);

/* The first value of a one-row statement as a malloc'd string ("(null)"
 * for SQL NULL); fails the test on error.  Free with free(). */
char *su_value(myappctx_conn *conn, const char *sql, int nparams, const char *const *params);

/* Sets the session context with raw SQL (api.set_context); tenant may be NULL. */
void su_set_context(myappctx_conn *conn, const char *user_id, const char *tenant_id);

/* As the superuser: a user row (role may be NULL) and a membership. */
void su_seed_user(const char *user_id, const char *role);
void su_seed_membership(const char *user_id, const char *tenant_id, int active);

#endif
