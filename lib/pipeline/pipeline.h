/* lib/pipeline: context-scoped units of work in one round trip (libpq
 * pipeline mode).  It builds on the context layer's argument checks and
 * reaches whoever owns the connection (the pool) only through the owner
 * hooks of lib/conn/conn.h.  Nothing here is shared with other files yet;
 * the header marks the layer's place (docs/design.md, "Layers"). */
#ifndef MXI_PIPELINE_H
#define MXI_PIPELINE_H

#include "context/context.h"

#endif /* MXI_PIPELINE_H */
