/* myappctx_version() and myappctx_free(). */
#include "config.h"
#include <stdlib.h>

#include "core/core.h"

MYAPPCTX_API const char *
myappctx_version(void)
{
    return MYAPPCTX_VERSION_STRING;
}

MYAPPCTX_API void
myappctx_free(void *ptr)
{
    free(ptr);
}
