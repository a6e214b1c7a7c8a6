/* Expectations that take more than a macro (see testutil.h). */
#include "config.h"

#include "testutil.h"

void
tu_assert_no_context(myappctx_conn *c, const char *label)
{
    const char *what = label != NULL ? label : "no context expected";
    myappctx_error err = { 0 };
    myappctx_uuid id;
    int is_set = -1;
    tu_assert_ok(myappctx_context_user_id_get(c, &id, &is_set, &err), err);
    ck_assert_msg(is_set == 0 && myappctx_uuid_is_nil(&id), "%s: a user is set", what);
    is_set = -1;
    tu_assert_ok(myappctx_context_tenant_id_get(c, &id, &is_set, &err), err);
    ck_assert_msg(is_set == 0, "%s: a tenant is set", what);
    char *role = (char *)"sentinel";
    tu_assert_ok(myappctx_context_role_label_get(c, &role, &err), err);
    ck_assert_msg(role == NULL, "%s: role '%s' is set", what, role);

    myappctx_context_info *info = NULL;
    tu_assert_ok(myappctx_context_get(c, &info, &err), err);
    ck_assert_msg(!info->has_user_id && !info->has_tenant_id && info->role_label == NULL &&
                  info->session_id == NULL && info->audit == NULL && !info->is_impersonating,
                  "%s: myappctx_context_get() shows a context", what);
    myappctx_context_info_free(info);
}
