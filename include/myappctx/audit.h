/**
 * @file myappctx/audit.h
 * (being written)
 */
#ifndef MYAPPCTX_AUDIT_H
#define MYAPPCTX_AUDIT_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_AUDIT_H */
