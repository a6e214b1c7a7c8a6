/* Built by check-pkgconfig.sh with nothing but `pkg-config myappctx`. */
#include <stdio.h>
#include <string.h>
#include <myappctx.h>

int
main(void)
{
    myappctx_uuid u;
    char buf[MYAPPCTX_UUID_BUFSIZE];
    if (myappctx_uuid_parse(&u, "00000000-0000-0000-0000-00000000002a", NULL) != MYAPPCTX_OK)
        return 1;
    printf("%s %s %s\n", myappctx_version(), myappctx_uuid_format(&u, buf), PQlibVersion() > 0 ? "libpq" : "?");
    return strcmp(myappctx_version(), MYAPPCTX_VERSION_STRING) != 0;
}
