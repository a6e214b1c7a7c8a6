-- Demo data for the example programs (run by `make demo` as the superuser,
-- after `myappctx schema install --app-role app_service --demo`).
-- Fixed ids so the examples can name them.
--   tenants: acme   11111111-1111-1111-1111-111111111111
--            globex 22222222-2222-2222-2222-222222222222
--   users:   alice  aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa  admin, member of acme
--            bob    bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb  user,  member of acme and globex
--            carol  cccccccc-cccc-4ccc-8ccc-cccccccccccc  user,  member of globex
--            dave   dddddddd-dddd-4ddd-8ddd-dddddddddddd  user,  membership inactive (acme)
INSERT INTO data.users (id, email, name, role) VALUES
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'alice@example.com', 'Alice Admin', 'admin'),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bob@example.com',   'Bob User',    'user'),
    ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'carol@example.com', 'Carol User',  'user'),
    ('dddddddd-dddd-4ddd-8ddd-dddddddddddd', 'dave@example.com',  'Dave Former', 'user')
ON CONFLICT (id) DO NOTHING;

INSERT INTO data.user_tenants (user_id, tenant_id, is_active) VALUES
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', true),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '11111111-1111-1111-1111-111111111111', true),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '22222222-2222-2222-2222-222222222222', true),
    ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', '22222222-2222-2222-2222-222222222222', true),
    ('dddddddd-dddd-4ddd-8ddd-dddddddddddd', '11111111-1111-1111-1111-111111111111', false)
ON CONFLICT DO NOTHING;

INSERT INTO data.orders (tenant_id, user_id, item, amount)
SELECT * FROM (VALUES
    ('11111111-1111-1111-1111-111111111111'::uuid, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid, 'anvil', 99.50),
    ('11111111-1111-1111-1111-111111111111'::uuid, 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'::uuid, 'rocket skates', 250.00),
    ('22222222-2222-2222-2222-222222222222'::uuid, 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'::uuid, 'hammock', 45.00)
) AS v(tenant_id, user_id, item, amount)
WHERE NOT EXISTS (SELECT 1 FROM data.orders);

INSERT INTO data.app_settings (key, value, description) VALUES
    ('site_name', 'Demo Shop', 'shown in page titles'),
    ('feature_x_enabled', 'true', 'boolean feature flag'),
    ('max_upload_mb', '25', 'integer limit')
ON CONFLICT (key) DO NOTHING;
