/* lib/schema: the embedded server-side schema and its installer.  The SQL
 * files of sql/ are compiled in by build-aux/embed-sql.sh, which writes
 * lib/schema/embedded.c (generated, not in git). */
#ifndef MXI_SCHEMA_H
#define MXI_SCHEMA_H

#include "api/api.h"

struct mxi_embedded_file {
    int version;          /* the number the file name starts with */
    const char *name;     /* file name, e.g. "001_schemas.sql" */
    const char *sql;      /* the file's text */
    const char *sha256;   /* SHA-256 of sql, 64 lower-case hex digits */
};

/* Core migrations (sql/NNN_*.sql) and demo objects (sql/demo/NNN_*.sql),
 * in ascending version order. */
extern const struct mxi_embedded_file mxi_embedded_core[];
extern const size_t mxi_embedded_core_count;
extern const struct mxi_embedded_file mxi_embedded_demo[];
extern const size_t mxi_embedded_demo_count;

#endif /* MXI_SCHEMA_H */
