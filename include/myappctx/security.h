/**
 * @file myappctx/security.h
 * (being written)
 */
#ifndef MYAPPCTX_SECURITY_H
#define MYAPPCTX_SECURITY_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_SECURITY_H */
