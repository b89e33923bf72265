-- add custom domains (reverts 20261201023839_add_custom_domains.up.sql)
-- Written by `strav generate:migration --scope=public`; review it before applying.

DROP TABLE custom_domains;
