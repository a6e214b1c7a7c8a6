/**
 * @file myappctx.h
 * libmyappctx: carry per-request user, tenant and audit context into
 * PostgreSQL over plain or pooled libpq connections.  Include only this file.
 *
 * Conventions: every call returns MYAPPCTX_OK (0) or a negative MYAPPCTX_E*
 * code and takes an optional caller-provided myappctx_error for details; the
 * codes every call may return are listed once, in myappctx/error.h.  Output
 * parameters are named `out`; what they receive belongs to the caller and is
 * freed with the function its documentation names.  Each header states its
 * threading rules once, at the top: in short, a myappctx_conn is used by one
 * thread at a time, and a myappctx_pool by any number.  The library never
 * exits, aborts or prints, and sends every value to the server as a bound
 * parameter.
 */
#ifndef MYAPPCTX_H
#define MYAPPCTX_H

#include <myappctx/common.h>
#include <myappctx/error.h>
#include <myappctx/uuid.h>
#include <myappctx/conn.h>
#include <myappctx/tracer.h>
#include <myappctx/exec.h>
#include <myappctx/schema.h>
#include <myappctx/context.h>
#include <myappctx/audit.h>
#include <myappctx/impersonation.h>
#include <myappctx/settings.h>
#include <myappctx/session_config.h>
#include <myappctx/lifecycle.h>
#include <myappctx/security.h>
#include <myappctx/pool.h>
#include <myappctx/pipeline.h>
#include <myappctx/seal.h>

#endif /* MYAPPCTX_H */
