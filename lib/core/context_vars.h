/* The myapp.* variables that carry context, without the prefix: THE list.
 * Reserved: no application setting may use these names.  Each has a kind,
 * which says what a unit of work does with it (lib/pipeline/unit.c):
 *   UNIT      set from the unit's own arguments
 *   AUDIT     set from the unit's audit arguments when it has them, else
 *             cleared like SESSION
 *   SESSION   session state (context, impersonation): cleared for the unit
 *             when the session carries it
 *   KEPT      bookkeeping of loaded settings: left alone
 * The order is that of private.context_variable_names() in
 * sql/001_schemas.sql; tests/build/check-context-vars.sh fails when that
 * function, private.session_is_clean() or api.clear_context() (SQL, frozen
 * migrations) disagree with this list. */
#ifndef MXI_CONTEXT_VARS_H
#define MXI_CONTEXT_VARS_H

#define MXI_CONTEXT_VARS(X)             \
    X(current_user_id,    UNIT)         \
    X(current_tenant_id,  UNIT)         \
    X(current_role,       UNIT)         \
    X(session_id,         SESSION)      \
    X(context_metadata,   SESSION)      \
    X(context_created_at, SESSION)      \
    X(audit_context,      AUDIT)        \
    X(original_user_id,   SESSION)      \
    X(original_role,      SESSION)      \
    X(is_impersonating,   SESSION)      \
    X(loaded_settings,    KEPT)

enum mxi_context_vars_kind {
    MXI_CONTEXT_VARS_UNIT, MXI_CONTEXT_VARS_AUDIT, MXI_CONTEXT_VARS_SESSION,
    MXI_CONTEXT_VARS_KEPT
};

#endif /* MXI_CONTEXT_VARS_H */
