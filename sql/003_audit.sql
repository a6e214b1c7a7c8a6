-- 003_audit: the audit context (reason, ticket, time) for the current
-- transaction. Its reader, private.get_audit_context(), is in 002_context.sql.

-- Transaction-local (set_config(..., true)): an audit reason belongs to one
-- unit of work and must not leak to the next one on a pooled connection.
CREATE OR REPLACE FUNCTION api.set_audit_context(
    in_reason   text DEFAULT NULL,
    in_ticket   text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('myapp.audit_context',
        jsonb_build_object(
            'reason', in_reason,
            'ticket', in_ticket,
            'timestamp', now()
        )::text,
        true);
END;
$$;
