/* One-allocation arrays of result rows (see rowblock.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"

int
mxi_rowblock_alloc(mxi_rowblock *b, const PGresult *res, size_t row_size,
                   const int *text_cols, int ntext, const char *what,
                   myappctx_error *err)
{
    int nrows = PQntuples(res);
    b->rows = NULL;
    b->nrows = 0;
    b->next_str = NULL;
    if (nrows <= 0)
        return MYAPPCTX_OK;

    if ((size_t)nrows > SIZE_MAX / row_size)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: too many rows", what);
    size_t total = (size_t)nrows * row_size;
    for (int r = 0; r < nrows; r++)
        for (int i = 0; i < ntext; i++) {
            if (PQgetisnull(res, r, text_cols[i]))
                continue;
            size_t len = (size_t)PQgetlength(res, r, text_cols[i]) + 1;
            if (total > SIZE_MAX - len)
                return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: result too large", what);
            total += len;
        }

    b->rows = calloc(1, total);
    if (b->rows == NULL)
        return mxi_error_set(err, MYAPPCTX_ENOMEM, NULL, "%s: out of memory", what);
    b->nrows = (size_t)nrows;
    b->next_str = (char *)b->rows + (size_t)nrows * row_size;
    return MYAPPCTX_OK;
}

const char *
mxi_rowblock_text(mxi_rowblock *b, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    size_t len = (size_t)PQgetlength(res, row, col);
    char *s = b->next_str;
    memcpy(s, PQgetvalue(res, row, col), len);
    s[len] = '\0';
    b->next_str += len + 1;
    return s;
}
