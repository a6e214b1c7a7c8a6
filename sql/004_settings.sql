-- 004_settings: application settings stored in data.app_settings and copied
-- into myapp.<key> session variables.
--
-- Keys are checked by private.is_valid_setting_key() (001_schemas.sql): a
-- lower-case identifier of at most 63 characters that is not a context name.

-- Session scope: settings stay loaded for the life of the connection (or until
-- api.clear_context()). The loaded keys are remembered in myapp.loaded_settings
-- so that api.clear_context() can reset them even after rows are deleted.
-- Returns how many settings were loaded (the spec returned void).
CREATE OR REPLACE FUNCTION api.load_app_settings()
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    l_setting record;
    l_count   integer := 0;
    l_keys    text[];
BEGIN
    l_keys := COALESCE(string_to_array(
        NULLIF(current_setting('myapp.loaded_settings', true), ''), ','), '{}');

    -- The key check repeats the table constraint on purpose: a row that got in
    -- while the constraint was missing must still not overwrite the context.
    FOR l_setting IN
        SELECT s.key, s.value
        FROM data.app_settings AS s
        WHERE private.is_valid_setting_key(s.key)
        ORDER BY s.key
    LOOP
        PERFORM set_config('myapp.' || l_setting.key, l_setting.value, false);
        IF NOT l_setting.key = ANY (l_keys) THEN
            l_keys := l_keys || l_setting.key;
        END IF;
        l_count := l_count + 1;
    END LOOP;

    PERFORM set_config('myapp.loaded_settings', array_to_string(l_keys, ','), false);
    RETURN l_count;
END;
$$;

CREATE OR REPLACE FUNCTION private.get_app_setting(
    in_key      text,
    in_default  text DEFAULT NULL
)
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT COALESCE(
        NULLIF(current_setting('myapp.' || in_key, true), ''),
        in_default
    );
$$;

-- Insert or update one setting. Bad input is refused here with our own code
-- (P0058) rather than by the CHECK constraint (23514). A NULL description keeps
-- the stored one. The new value reaches a session at its next
-- api.load_app_settings().
CREATE OR REPLACE FUNCTION api.set_app_setting(
    in_key          text,
    in_value        text,
    in_description  text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT private.is_valid_setting_key(in_key) THEN
        RAISE EXCEPTION 'invalid or reserved setting key: %', COALESCE(in_key, 'NULL')
            USING ERRCODE = 'P0058',
                  HINT = 'Keys match ^[a-z][a-z0-9_]{0,62}$ and must not be a context variable name.';
    END IF;
    IF in_value IS NULL THEN
        RAISE EXCEPTION 'in_value must not be NULL'
            USING ERRCODE = 'P0058';
    END IF;

    INSERT INTO data.app_settings AS s (key, value, description, updated_at)
    VALUES (in_key, in_value, in_description, now())
    ON CONFLICT (key) DO UPDATE
    SET value = EXCLUDED.value,
        description = COALESCE(EXCLUDED.description, s.description),
        updated_at = now();
END;
$$;
