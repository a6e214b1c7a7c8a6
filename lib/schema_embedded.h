/* The SQL files of sql/, embedded at build time by build-aux/embed-sql.sh. */
#ifndef MYAPPCTX_SCHEMA_EMBEDDED_H
#define MYAPPCTX_SCHEMA_EMBEDDED_H

#include <stddef.h>

struct mxi_sql_file {
    int version;          /* the number the file name starts with */
    const char *name;     /* file name, e.g. "001_schemas.sql" */
    const char *sql;      /* the file's text */
};

/* Core migrations (sql/NNN_*.sql) and demo objects (sql/demo/NNN_*.sql),
 * in ascending version order. */
extern const struct mxi_sql_file mxi_sql_core[];
extern const size_t mxi_sql_core_count;
extern const struct mxi_sql_file mxi_sql_demo[];
extern const size_t mxi_sql_demo_count;

#endif
