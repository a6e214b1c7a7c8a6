/* Validation of the names the settings and session-configuration modules
 * send to the server: application setting keys and configuration parameter
 * (GUC) names.  They travel as bound parameters like any value; checking
 * them in C as well gives a clear MYAPPCTX_EINVAL before any round trip. */
#ifndef MYAPPCTX_NAMES_H
#define MYAPPCTX_NAMES_H

#include "internal.h"

/* A setting key: matches ^[a-z][a-z0-9_]{0,62}$ and is not one of the
 * context variable names (private.context_variable_names()), exactly the
 * rule of private.is_valid_setting_key().  EINVAL naming @argname otherwise. */
int mxi_check_setting_key(const char *key, const char *argname, const char *what,
                          myappctx_error *err);

/* A configuration parameter name: at most MYAPPCTX_CONFIG_NAME_MAX bytes matching
 * ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$.  EINVAL otherwise. */
int mxi_check_config_name(const char *name, const char *argname, const char *what,
                          myappctx_error *err);

/* True when @name (a valid configuration parameter name) is one of the
 * myapp.* context variables, compared case-insensitively like the server
 * compares parameter names. */
bool mxi_config_name_is_context(const char *name);

/* True when @name has the two-part form of a custom (placeholder) parameter. */
bool mxi_config_name_is_custom(const char *name);

#endif /* MYAPPCTX_NAMES_H */
