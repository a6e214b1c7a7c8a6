/* Running a suite (see testutil.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

int
tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    /* Fork mode: a child's output must not sit in a buffer when it dies. */
    setvbuf(stdout, NULL, _IONBF, 0);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
