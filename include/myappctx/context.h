/**
 * @file myappctx/context.h
 * (being written)
 */
#ifndef MYAPPCTX_CONTEXT_H
#define MYAPPCTX_CONTEXT_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_CONTEXT_H */
