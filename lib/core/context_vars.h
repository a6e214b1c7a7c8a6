/* The myapp.* variables that carry context, without the prefix: THE list.
 * One name per line, in the order of private.context_variable_names() in
 * sql/001_schemas.sql; tests/build/check-context-vars.sh fails when that
 * function, private.session_is_clean() or api.clear_context() (SQL, frozen
 * migrations) disagree with this list.  Reserved: no application setting
 * may use these names. */
#ifndef MXI_CONTEXT_VARS_H
#define MXI_CONTEXT_VARS_H

#define MXI_CONTEXT_VARS(X) \
    X(current_user_id)      \
    X(current_tenant_id)    \
    X(current_role)         \
    X(session_id)           \
    X(context_metadata)     \
    X(context_created_at)   \
    X(audit_context)        \
    X(original_user_id)     \
    X(original_role)        \
    X(is_impersonating)     \
    X(loaded_settings)

#endif /* MXI_CONTEXT_VARS_H */
