/* myappctx_version(). */
#include "config.h"
#include "internal.h"

MYAPPCTX_API const char *
myappctx_version(void)
{
    return MYAPPCTX_VERSION_STRING;
}
