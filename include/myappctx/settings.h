/**
 * @file myappctx/settings.h
 * (being written)
 */
#ifndef MYAPPCTX_SETTINGS_H
#define MYAPPCTX_SETTINGS_H

#include <myappctx/conn.h>

#endif /* MYAPPCTX_SETTINGS_H */
