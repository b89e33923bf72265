-- add orders and order events (reverts 20261201023839_add_orders_and_order_events.up.sql)
-- Written by `strav generate:migration --scope=tenant`; review it before applying.

ALTER TABLE order_events DROP CONSTRAINT order_events_order_id_fkey;

DROP TABLE order_events;
DROP TABLE orders;

DROP TYPE order_status;
