-- add orders and order events
-- Written by `strav generate:migration --scope=tenant`; review it before applying.

CREATE TYPE order_status AS ENUM ('pending', 'confirmed');

CREATE TABLE order_events (
    id bigserial NOT NULL,
    order_id bigint NOT NULL,
    event text NOT NULL,
    ran_in text NOT NULL,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);
CREATE TABLE orders (
    id bigserial NOT NULL,
    customer text NOT NULL,
    total_cents bigint NOT NULL,
    status order_status NOT NULL DEFAULT 'pending',
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

ALTER TABLE order_events ADD CONSTRAINT order_events_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE;
