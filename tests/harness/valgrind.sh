#!/bin/sh
# LOG_COMPILER for `make check-valgrind`: runs one test program under
# valgrind memcheck through libtool (the library is not installed).  Any
# memory error or definitely lost block makes the program exit 1, which the
# TAP driver reports as an error.  Check runs in no-fork mode (CK_FORK=no) so
# that valgrind sees the whole program in one process.
CK_FORK=no
export CK_FORK
echo "# valgrind memcheck: $*"
exec "${LIBTOOL:-libtool}" --mode=execute valgrind --quiet --error-exitcode=1 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --num-callers=30 "$@"
