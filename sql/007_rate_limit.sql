-- 007_rate_limit: fixed-window rate limiting per (user, action), its cleanup,
-- and api.send_email() as the spec's example user of it.
--
-- The counters are written only by SECURITY DEFINER functions; the app role has
-- no rights on data.rate_limits, so it cannot reset its own counters.

-- Start of the fixed window of in_window_seconds that contains in_at: windows
-- are aligned to multiples of their length since the Unix epoch.
-- SPEC FIX: the spec subtracted EXTRACT(EPOCH ...)::integer % window from the
-- truncated second; ::integer rounds, so at 12:00:59.6 it computed 12:00:59
-- instead of 12:00:00. floor() does not round.
CREATE OR REPLACE FUNCTION private.rate_limit_window_start(
    in_at               timestamptz,
    in_window_seconds   integer
)
RETURNS timestamptz
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT to_timestamp(floor(extract(epoch FROM in_at) / in_window_seconds)
                        * in_window_seconds);
$$;

-- SPEC FIXES:
--   * no user context raises P0050 (the spec inserted a NULL user_id, which
--     failed with a not-null violation);
--   * NULL arguments, an empty action, in_max_requests < 0 or
--     in_window_seconds <= 0 raise P0058 (the spec divided by zero);
--   * the window start comes from private.rate_limit_window_start() (floor,
--     not rounding).
-- Exceeding the limit raises P0054; the failing transaction's increment is
-- rolled back with it.
CREATE OR REPLACE FUNCTION private.check_rate_limit(
    in_action           text,
    in_max_requests     integer,
    in_window_seconds   integer
)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_user_id       uuid;
    l_window_start  timestamptz;
    l_current_count integer;
BEGIN
    IF in_action IS NULL OR in_action = '' THEN
        RAISE EXCEPTION 'in_action must be a non-empty string'
            USING ERRCODE = 'P0058';
    END IF;
    IF in_max_requests IS NULL OR in_max_requests < 0 THEN
        RAISE EXCEPTION 'in_max_requests must be >= 0, got %', COALESCE(in_max_requests::text, 'NULL')
            USING ERRCODE = 'P0058';
    END IF;
    IF in_window_seconds IS NULL OR in_window_seconds <= 0 THEN
        RAISE EXCEPTION 'in_window_seconds must be > 0, got %', COALESCE(in_window_seconds::text, 'NULL')
            USING ERRCODE = 'P0058';
    END IF;

    PERFORM private.require_context();
    l_user_id := private.get_current_user_id();

    l_window_start := private.rate_limit_window_start(now(), in_window_seconds);

    INSERT INTO data.rate_limits AS r (user_id, action, window_start, count)
    VALUES (l_user_id, in_action, l_window_start, 1)
    ON CONFLICT (user_id, action, window_start) DO UPDATE
    SET count = r.count + 1
    RETURNING r.count INTO l_current_count;

    IF l_current_count > in_max_requests THEN
        RAISE EXCEPTION 'Rate limit exceeded for action: %', in_action
            USING ERRCODE = 'P0054',
                  DETAIL = format('At most %s requests per %s seconds.',
                                  in_max_requests, in_window_seconds);
    END IF;

    RETURN true;
END;
$$;
REVOKE EXECUTE ON FUNCTION private.check_rate_limit(text, integer, integer) FROM PUBLIC;

-- Deletes counters whose window started more than in_older_than ago. Pass an
-- interval at least as long as the longest window in use, or a live window's
-- counter is dropped early. Returns the number of rows deleted.
CREATE OR REPLACE FUNCTION api.cleanup_rate_limits(
    in_older_than interval DEFAULT interval '1 day'
)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_deleted integer;
BEGIN
    IF in_older_than IS NULL OR in_older_than <= interval '0' THEN
        RAISE EXCEPTION 'in_older_than must be a positive interval'
            USING ERRCODE = 'P0058';
    END IF;

    DELETE FROM data.rate_limits AS r
    WHERE r.window_start < now() - in_older_than;
    GET DIAGNOSTICS l_deleted = ROW_COUNT;

    RETURN l_deleted;
END;
$$;
REVOKE EXECUTE ON FUNCTION api.cleanup_rate_limits(interval) FROM PUBLIC;

-- SPEC FIX: the spec's SECURITY DEFINER send_email had no pinned search_path.
-- Queues the mail in data.email_outbox for the current user: at most 10 per
-- 60 seconds. The recipient is checked before the rate limit so that a bad
-- call does not use up the quota.
CREATE OR REPLACE FUNCTION api.send_email(
    in_to       text,
    in_subject  text,
    in_body     text
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF in_to IS NULL OR btrim(in_to) = '' THEN
        RAISE EXCEPTION 'in_to must be a non-empty address'
            USING ERRCODE = 'P0058';
    END IF;

    PERFORM private.check_rate_limit('send_email', 10, 60);

    INSERT INTO data.email_outbox (user_id, to_addr, subject, body)
    VALUES (private.get_current_user_id(), in_to, in_subject, in_body);
END;
$$;
REVOKE EXECUTE ON FUNCTION api.send_email(text, text, text) FROM PUBLIC;
