/* Arrays of result rows handed to the caller as ONE allocation: the row
 * structs first, then the strings they point to, so that a single free()
 * releases everything and no row can be leaked on its own. */
#ifndef MYAPPCTX_ROWBLOCK_H
#define MYAPPCTX_ROWBLOCK_H

#include "internal.h"

typedef struct mxi_rowblock {
    void   *rows;      /* the block; NULL when the result has no rows */
    size_t  nrows;
    char   *next_str;  /* where the next string is copied */
} mxi_rowblock;

/* Allocates room for PQntuples(res) structs of @row_size bytes (zeroed) plus
 * every non-NULL value of the @ntext columns listed in @text_cols.  With no
 * rows, b->rows is NULL and nothing is allocated. */
int mxi_rowblock_alloc(mxi_rowblock *b, const PGresult *res, size_t row_size,
                       const int *text_cols, int ntext, const char *what,
                       myappctx_error *err);

/* Copies the value at (row, col) into the block and returns it, or NULL for
 * SQL NULL.  The column must have been listed in mxi_rowblock_alloc(). */
const char *mxi_rowblock_text(mxi_rowblock *b, const PGresult *res, int row, int col);

#endif /* MYAPPCTX_ROWBLOCK_H */
