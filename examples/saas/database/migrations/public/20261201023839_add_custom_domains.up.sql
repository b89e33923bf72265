-- add custom domains
-- Written by `strav generate:migration --scope=public`; review it before applying.

CREATE TABLE custom_domains (
    domain text NOT NULL,
    tenant text NOT NULL,
    PRIMARY KEY (domain)
);
