-- Deterministic benchmark data for Shipgate's own schema on PostgreSQL (run after
-- `shipgate migrate`, into the organization given as :org):
--   20 accounts over the four marketplaces, 50,000 SKUs with declarations, one NETWORK
--   channel, :orders orders (default 1,000,000) with 1-3 lines each over 180 days, and a
--   waybill for every pushed or shipped order.
-- Everything is computed from the row number (no random()), so two runs load the same data.
-- Server-side INSERT … SELECT generate_series: no client round trips. Run it on a fresh
-- database: it drops and rebuilds the indexes of orders, order_items and waybills.
-- Usage: psql -v org=<uuid> -v orders=1000000 -f bench/generate.sql
\set ON_ERROR_STOP on
\if :{?orders}
\else
  \set orders 1000000
\endif

BEGIN;
-- Bulk-load practice: no FK triggers (the rows are consistent by construction), and the
-- secondary indexes of the big tables dropped now and rebuilt once at the end.
SET LOCAL session_replication_role = replica;
SET LOCAL maintenance_work_mem = '512MB';
CREATE TEMP TABLE saved_indexes ON COMMIT DROP AS
  SELECT indexname, indexdef FROM pg_indexes
  WHERE schemaname = 'public' AND tablename IN ('orders', 'order_items', 'waybills') AND indexname NOT LIKE '%\_pkey';
SELECT format('DROP INDEX %I', indexname) FROM saved_indexes \gexec

-- A deterministic UUID for (kind, n).
CREATE OR REPLACE FUNCTION pg_temp.uid(kind text, n bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE AS $$ SELECT md5(kind || ':' || n)::uuid $$;

INSERT INTO accounts (id, organization_id, platform, name, status, created_at, updated_at)
SELECT pg_temp.uid('account', i), :'org', (ARRAY['EBAY', 'ALIEXPRESS', 'WISH', 'AMAZON'])[1 + i % 4],
       'Store ' || i, 'ACTIVE', now(), now()
FROM generate_series(0, 19) AS i;

INSERT INTO skus (id, organization_id, code, name, decl_name_en, decl_name_cn, decl_value_minor, decl_currency,
                  weight_grams, hs_code, origin_country, picking_info, warehouse_status, created_at, updated_at)
SELECT pg_temp.uid('sku', i), :'org', 'SKU-' || lpad(i::text, 6, '0'), 'Product ' || i,
       (ARRAY['Phone case', 'USB cable', 'LED strip', 'Yoga mat', 'Earbuds', 'Tea set'])[1 + i % 6],
       (ARRAY['手机壳', '数据线', '灯带', '瑜伽垫', '耳机', '茶具'])[1 + i % 6],
       100 + i % 5000, 'USD', 20 + i % 900, '392690', 'CN', 'Shelf ' || (i % 200), 'NOT_SUBMITTED', now(), now()
FROM generate_series(0, 49999) AS i;

INSERT INTO channels (id, organization_id, code, name, provider, destination_countries, required_fields,
                      address_policy, tracking_source, tracking_prefix, tracking_suffix, range_start, range_end,
                      range_next, active, created_at, updated_at)
VALUES (pg_temp.uid('channel', 0), :'org', 'BENCH-NET', 'Bench network line', 'NETWORK', '[]', '[]', 'AS_IS', 'RANGE',
        'RR', 'CN', 1, 99999999, 1 + :orders, true, now(), now());

-- Orders: status mix 40% shipped, 20% pushed, 10% push failed, 25% unpushed, 5% cancelled.
INSERT INTO orders (id, organization_id, account_id, platform, platform_order_id, platform_status, buyer_name,
                    recipient_name, recipient_phone, address_line1, city, postal_code, country_code, currency,
                    total_minor, shipping_minor, fulfillment_status, write_back_status, channel_id, tracking_number,
                    last_error_code, version, ordered_at, pushed_at, shipped_at, created_at, updated_at)
SELECT pg_temp.uid('order', i), :'org', pg_temp.uid('account', i % 20),
       (ARRAY['EBAY', 'ALIEXPRESS', 'WISH', 'AMAZON'])[1 + (i % 20) % 4],
       substr(lpad(i::text, 12, '0'), 1, 2) || '-' || substr(lpad(i::text, 12, '0'), 3, 5) || '-' || substr(lpad(i::text, 12, '0'), 8, 5),
       (ARRAY['NOT_STARTED', 'IN_PROGRESS', 'FULFILLED', 'WAIT_SELLER_SEND_GOODS'])[1 + i % 4],
       'Buyer ' || i, 'Recipient ' || i, '+1 555 ' || lpad((i % 10000)::text, 4, '0'), (i % 999 + 1) || ' Main Street',
       (ARRAY['London', 'Berlin', 'Paris', 'New York', 'Tokyo', 'Madrid', 'Sydney'])[1 + i % 7],
       lpad((i % 99999)::text, 5, '0'), (ARRAY['GB', 'DE', 'FR', 'US', 'JP', 'ES', 'AU'])[1 + i % 7],
       (ARRAY['USD', 'EUR', 'GBP'])[1 + i % 3], 500 + (i * 7919) % 20000, (i % 3) * 100,
       CASE WHEN s < 40 THEN 'SHIPPED' WHEN s < 60 THEN 'PUSHED' WHEN s < 70 THEN 'PUSH_FAILED'
            WHEN s < 95 THEN 'UNPUSHED' ELSE 'CANCELLED' END,
       CASE WHEN s < 30 THEN 'WRITTEN' ELSE 'NOT_REQUESTED' END,
       CASE WHEN s < 70 THEN pg_temp.uid('channel', 0) END,
       CASE WHEN s < 60 THEN 'RR' || lpad(i::text, 8, '0') || '0CN' END,
       CASE WHEN s >= 60 AND s < 70 THEN (ARRAY['DESTINATION_NOT_SERVED', 'DECLARATION_MISSING', 'ADDRESS_INCOMPLETE'])[1 + i % 3] END,
       0, t, CASE WHEN s < 60 THEN t + interval '2 hours' END, CASE WHEN s < 40 THEN t + interval '1 day' END, t, t
FROM (SELECT i, (i * 37) % 100 AS s,
             timestamptz '2026-11-20 00:00:00+00' - ((i * 15552000::bigint / :orders) || ' seconds')::interval AS t
      FROM generate_series(0::bigint, :orders - 1) AS i) AS g;

INSERT INTO order_items (id, organization_id, order_id, platform_item_id, platform_sku, title, quantity,
                         unit_price_minor, sku_id, created_at, updated_at)
SELECT pg_temp.uid('item', i * 4 + k), :'org', pg_temp.uid('order', i), 'item-' || i || '-' || k,
       'SKU-' || lpad(((i * 31 + k * 7919) % 50000)::text, 6, '0'), 'Product line ' || k, 1 + (i + k) % 3,
       300 + (i * k) % 5000, pg_temp.uid('sku', (i * 31 + k * 7919) % 50000), now(), now()
FROM generate_series(0::bigint, :orders - 1) AS i, LATERAL generate_series(1, 1 + i % 3) AS k;

INSERT INTO waybills (id, organization_id, order_id, channel_id, customer_reference, tracking_number, status, snapshot,
                      attempts, forecasted_at, created_at, updated_at)
SELECT pg_temp.uid('waybill', o.i), :'org', pg_temp.uid('order', o.i), pg_temp.uid('channel', 0),
       'OD' || o.i, 'RR' || lpad(o.i::text, 8, '0') || '0CN', CASE WHEN o.s < 40 THEN 'SHIPPED' ELSE 'FORECASTED' END,
       '{"recipient":{"name":"Recipient","line1":"1 Main Street","countryCode":"GB"},"lines":[]}', 1, now(), now(), now()
FROM (SELECT i, (i * 37) % 100 AS s FROM generate_series(0::bigint, :orders - 1) AS i) AS o
WHERE o.s < 60;

SELECT indexdef FROM saved_indexes \gexec
COMMIT;

VACUUM ANALYZE;
