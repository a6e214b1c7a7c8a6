/**
 * @file myappctx/common.h
 * Export macro and forward declarations shared by every libmyappctx header.
 * The two functions declared here may be called from any thread.
 */
#ifndef MYAPPCTX_COMMON_H
#define MYAPPCTX_COMMON_H

#include <stddef.h>
#include <libpq-fe.h>
#include <jansson.h>

#include <myappctx/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the public API.  The library is built with -fvisibility=hidden, so
 *  only declarations carrying this macro are exported. */
#if defined(__GNUC__) && __GNUC__ >= 4
#  define MYAPPCTX_API __attribute__((visibility("default")))
#else
#  define MYAPPCTX_API
#endif

/** Feature macro: the library has the one-round-trip pipelined transaction. */
#define MYAPPCTX_HAS_PIPELINE 1

/** A libmyappctx connection: a libpq connection plus context-safety state
 *  (see myappctx/conn.h). */
typedef struct myappctx_conn myappctx_conn;

/** Frees what a function documents as "free it with myappctx_free()".
 *  NULL is allowed. */
MYAPPCTX_API void myappctx_free(void *ptr);

/** Returns the library's version string, e.g. "0.1.0" (static storage). */
MYAPPCTX_API const char *myappctx_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MYAPPCTX_COMMON_H */
