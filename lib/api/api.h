/* lib/api: thin typed wrappers over the schema's SQL functions -- the
 * application settings (settings.c), session configuration
 * (session_config.c), connection validation and lifecycle (lifecycle.c),
 * tenant checks and rate limiting (security.c).  Each is a bound-parameter
 * call through lib/exec's helpers; argument checks come from lib/core. */
#ifndef MXI_API_H
#define MXI_API_H

#include "exec/exec.h"

#endif /* MXI_API_H */
