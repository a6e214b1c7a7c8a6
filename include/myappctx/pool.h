/**
 * @file myappctx/pool.h
 * (being written)
 */
#ifndef MYAPPCTX_POOL_H
#define MYAPPCTX_POOL_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_POOL_H */
