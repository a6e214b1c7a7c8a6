/**
 * @file myappctx/impersonation.h
 * (being written)
 */
#ifndef MYAPPCTX_IMPERSONATION_H
#define MYAPPCTX_IMPERSONATION_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_IMPERSONATION_H */
