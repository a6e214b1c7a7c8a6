/**
 * @file myappctx/lifecycle.h
 * (being written)
 */
#ifndef MYAPPCTX_LIFECYCLE_H
#define MYAPPCTX_LIFECYCLE_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_LIFECYCLE_H */
