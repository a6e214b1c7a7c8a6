/* Validation of myappctx_pool_config before anything is allocated, so a
 * mistake is reported by field name instead of surfacing as odd pool
 * behaviour later. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pool/pool.h"

/* Longer conninfo strings are surely a mistake (libpq has no fixed limit). */
#define CONNINFO_MAX 65536

static int
bad(myappctx_error *err, const char *field, const char *why)
{
    return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "myappctx_pool_new: config '%s' %s", field, why);
}

/* Every duration is a count of milliseconds where 0 has a meaning
 * (disabled or "at once"); negative ones are refused. */
#define CHECK_NONNEG(cfg, field, err)                                      \
    do {                                                                       \
        if ((cfg)->field < 0)                                                  \
            return bad((err), #field, "must be >= 0");                        \
    } while (0)

static int
check_times(const myappctx_pool_config *cfg, myappctx_error *err)
{
    CHECK_NONNEG(cfg, acquire_timeout_ms, err);
    CHECK_NONNEG(cfg, max_lifetime_ms, err);
    CHECK_NONNEG(cfg, max_idle_ms, err);
    CHECK_NONNEG(cfg, health_check_period_ms, err);
    CHECK_NONNEG(cfg, validate_idle_ms, err);
    if (cfg->reconnect_min_ms < 1)
        return bad(err, "reconnect_min_ms", "must be >= 1");
    if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        return bad(err, "reconnect_max_ms", "must be >= reconnect_min_ms");
    /* isnan() first: NaN fails every comparison and would slip through. */
    if (isnan(cfg->max_lifetime_jitter) || cfg->max_lifetime_jitter < 0.0 ||
        cfg->max_lifetime_jitter > 1.0)
        return bad(err, "max_lifetime_jitter", "must be between 0 and 1");
    return MYAPPCTX_OK;
}

/* A hook that would never run is a configuration mistake, not a no-op. */
static int
check_modes(const myappctx_pool_config *cfg, myappctx_error *err)
{
    switch (cfg->validation) {
    case MYAPPCTX_POOL_VALIDATE_NONE:
    case MYAPPCTX_POOL_VALIDATE_PING:
    case MYAPPCTX_POOL_VALIDATE_SERVER:
    case MYAPPCTX_POOL_VALIDATE_HOOK:
        break;
    default:
        return bad(err, "validation", "is not a myappctx_pool_validation value");
    }
    if (cfg->validation == MYAPPCTX_POOL_VALIDATE_HOOK && cfg->on_acquire == NULL)
        return bad(err, "on_acquire", "is NULL but validation is MYAPPCTX_POOL_VALIDATE_HOOK");
    if (cfg->validation != MYAPPCTX_POOL_VALIDATE_HOOK && cfg->on_acquire != NULL)
        return bad(err, "on_acquire", "is set but validation is not MYAPPCTX_POOL_VALIDATE_HOOK");

    switch (cfg->reset) {
    case MYAPPCTX_POOL_RESET_TARGETED:
    case MYAPPCTX_POOL_RESET_DISCARD_ALL:
    case MYAPPCTX_POOL_RESET_HOOK:
        break;
    default:
        return bad(err, "reset", "is not a myappctx_pool_reset value");
    }
    if (cfg->reset == MYAPPCTX_POOL_RESET_HOOK && cfg->on_release == NULL)
        return bad(err, "on_release", "is NULL but reset is MYAPPCTX_POOL_RESET_HOOK");
    if (cfg->reset != MYAPPCTX_POOL_RESET_HOOK && cfg->on_release != NULL)
        return bad(err, "on_release", "is set but reset is not MYAPPCTX_POOL_RESET_HOOK");
    return MYAPPCTX_OK;
}

int
mxi_config_check(const myappctx_pool_config *cfg, myappctx_error *err)
{
    if (cfg == NULL)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "myappctx_pool_new: argument 'cfg' is NULL");
    if (cfg->version != MYAPPCTX_POOL_CONFIG_VERSION)
        return mxi_error_set(err, MYAPPCTX_EINVAL, NULL,
                             "myappctx_pool_new: config 'version' is %d, not %d (use MYAPPCTX_POOL_CONFIG_INIT)",
                             cfg->version, MYAPPCTX_POOL_CONFIG_VERSION);
    if (cfg->conninfo == NULL)
        return bad(err, "conninfo", "is NULL (use \"\" for the PG* environment)");
    if (strnlen(cfg->conninfo, CONNINFO_MAX + 1) > CONNINFO_MAX)
        return bad(err, "conninfo", "is longer than 65536 bytes");
    /* A connection string libpq cannot parse would only fail every connect
     * in the background: refuse it now, with libpq's own words. */
    char *why = NULL;
    PQconninfoOption *parsed = PQconninfoParse(cfg->conninfo, &why);
    if (parsed == NULL) {
        int rc = why != NULL
                     ? mxi_error_set(err, MYAPPCTX_EINVAL, NULL, "myappctx_pool_new: conninfo: %s", why)
                     : mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "myappctx_pool_new: out of memory");
        PQfreemem(why);
        return rc;
    }
    PQconninfoFree(parsed);
    if (cfg->min_size < 0)
        return bad(err, "min_size", "must be >= 0");
    if (cfg->max_size < 1)
        return bad(err, "max_size", "must be >= 1");
    if (cfg->min_size > cfg->max_size)
        return bad(err, "min_size", "must be <= max_size");
    if (cfg->max_waiters < 0)
        return bad(err, "max_waiters", "must be >= 0 (0: no limit)");
    int rc = check_times(cfg, err);
    if (rc != MYAPPCTX_OK)
        return rc;
    return check_modes(cfg, err);
}
