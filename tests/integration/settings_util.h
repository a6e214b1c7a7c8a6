/* Helpers shared by the settings-area suites (test_settings, test_session_config,
 * test_lifecycle, test_security): unique names, raw-SQL context setup and
 * seeding as the superuser. */
#ifndef MYAPPCTX_TEST_SETTINGS_UTIL_H
#define MYAPPCTX_TEST_SETTINGS_UTIL_H

#include <stddef.h>
#include <string.h>

#include "../util.h"

/* Asserts the exact status code and, when @needle is not NULL, that the
 * message contains it (e.g. the argument's name).  Macros, so that a
 * failure reports the caller's line. */
#define su_expect(rc, code, err, needle)                                        \
    do {                                                                        \
        int su_rc_ = (rc);                                                      \
        const char *su_needle_ = (needle);                                      \
        tu_assert_rc(su_rc_, (code), *(err));                                    \
        if (su_needle_ != NULL)                                                 \
            ck_assert_msg(strstr((err)->message, su_needle_) != NULL,            \
                          "'%s' not in: %s", su_needle_, (err)->message);        \
    } while (0)

/* Asserts the exact status code and SQLSTATE ("" for refusals made in C). */
#define su_expect_state(rc, code, err, state)                                   \
    do {                                                                        \
        int su_rc_ = (rc);                                                      \
        tu_assert_rc(su_rc_, (code), *(err));                                    \
        ck_assert_str_eq((err)->sqlstate, (state));                              \
    } while (0)

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
