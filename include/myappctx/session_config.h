/**
 * @file myappctx/session_config.h
 * (being written)
 */
#ifndef MYAPPCTX_SESSION_CONFIG_H
#define MYAPPCTX_SESSION_CONFIG_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_SESSION_CONFIG_H */
