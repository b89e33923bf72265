WITH
ns AS (SELECT n.oid AS nsp, n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n WHERE n.nspname = $1),
me AS (SELECT r.oid AS me FROM pg_catalog.pg_roles r WHERE r.rolname = current_user),
-- What DROP SCHEMA would drop, found like it does: through the objects'
-- dependencies on the schema (an index lookup, whatever the number of
-- tenants). Types and functions that another object made for itself (a
-- range type's constructors and multirange) or that belong to an extension
-- are not the schema's own.
members AS (
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d, ns
    WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass AND d.refobjid = ns.nsp AND d.deptype = 'n'
      AND NOT (d.classid IN ('pg_catalog.pg_type'::regclass, 'pg_catalog.pg_proc'::regclass)
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
                           WHERE i.classid = d.classid AND i.objid = d.objid AND i.deptype IN ('i', 'e')))),
member_types AS (SELECT m.objid AS oid FROM members m WHERE m.classid = 'pg_catalog.pg_type'::regclass),
rel_oids AS (
    SELECT m.objid AS oid FROM members m WHERE m.classid = 'pg_catalog.pg_class'::regclass
    UNION ALL
    SELECT t.typrelid FROM member_types mt JOIN pg_catalog.pg_type t ON t.oid = mt.oid WHERE t.typrelid <> 0
    UNION ALL
    SELECT i.indexrelid FROM members m JOIN pg_catalog.pg_index i ON i.indrelid = m.objid
    WHERE m.classid = 'pg_catalog.pg_class'::regclass),
rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relowner, c.relacl,
           c.reltype, c.relam, c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
           c.relispopulated, c.reltoastrelid, c.reloftype, c.relispartition,
           format('%I.%I', $2::text, c.relname) AS tq,
           format('%I.%I', $1::text, c.relname) AS sq,
           CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX' WHEN 'f' THEN 'FOREIGN TABLE'
                ELSE 'TABLE' END AS kw,
           (SELECT string_agg(o, ', ') FROM (
                SELECT format('%s=%L', split_part(x, '=', 1), substr(x, strpos(x, '=') + 1)) AS o
                FROM unnest(c.reloptions) x
                UNION ALL
                SELECT format('toast.%s=%L', split_part(x, '=', 1), substr(x, strpos(x, '=') + 1))
                FROM pg_catalog.pg_class tc, unnest(tc.reloptions) x WHERE tc.oid = c.reltoastrelid
           ) opts) AS opts
    FROM rel_oids o JOIN pg_catalog.pg_class c ON c.oid = o.oid),
owned AS (
    SELECT d.objid AS seq, d.refobjid AS tbl, d.refobjsubid AS col, d.deptype
    FROM rels s JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.oid
    WHERE s.relkind = 'S' AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')),
-- Every type of the schema with the one that brought it (`base`): itself,
-- a table for its row type, a range for its multirange, an element type
-- for its array.
type_oids AS (
    SELECT oid, oid AS base FROM member_types
    UNION ALL
    SELECT r.reltype, r.reltype FROM rels r WHERE r.reltype <> 0 AND r.relkind <> 'c'
    UNION ALL
    SELECT rg.rngmultitypid, rg.rngtypid FROM member_types mt JOIN pg_catalog.pg_range rg ON rg.rngtypid = mt.oid),
all_type_oids AS (
    SELECT oid, base FROM type_oids
    UNION ALL
    SELECT t.typarray, o.base FROM type_oids o JOIN pg_catalog.pg_type t ON t.oid = o.oid WHERE t.typarray <> 0),
types AS (
    SELECT t.oid, t.typname, t.typtype, t.typowner, t.typacl, t.typbasetype, t.typtypmod,
           t.typnotnull, t.typcollation, t.typrelid, t.typdefaultbin,
           format('%I.%I', $2::text, t.typname) AS tq,
           CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kw,
           b.oid AS base_oid, b.typrelid AS base_rel, br.relkind AS base_relkind,
           a.base <> t.oid AS implicit,
           -- a type the clone creates itself: enums, composite types, domains, ranges
           a.base = t.oid AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND br.relkind = 'c')) AS own
    FROM all_type_oids a
    JOIN pg_catalog.pg_type t ON t.oid = a.oid
    JOIN pg_catalog.pg_type b ON b.oid = a.base
    LEFT JOIN pg_catalog.pg_class br ON br.oid = b.typrelid),
procs AS (
    SELECT p.oid, p.proname, p.prokind, p.proowner, p.proacl, p.proconfig,
           -- A body PostgreSQL parsed (BEGIN ATOMIC) is deparsed like a view;
           -- C and internal functions have a symbol, not SQL.
           p.prosqlbody IS NOT NULL OR p.prolang IN (SELECT l.oid FROM pg_catalog.pg_language l
                                                     WHERE l.lanname IN ('c', 'internal')) AS verbatim,
           format('%I.%I(%s)', $2::text, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS tsig,
           CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS kw
    FROM members m JOIN pg_catalog.pg_proc p ON p.oid = m.objid
    WHERE m.classid = 'pg_catalog.pg_proc'::regclass),
stats AS (
    SELECT s.oid, s.stxname, s.stxowner, s.stxstattarget
    FROM members m JOIN pg_catalog.pg_statistic_ext s ON s.oid = m.objid
    WHERE m.classid = 'pg_catalog.pg_statistic_ext'::regclass),
cols AS (
    SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attidentity,
           a.attgenerated, a.attcollation, a.attstattarget, a.attstorage, a.attoptions, a.attcompression,
           a.attacl, ty.typstorage,
           EXISTS (SELECT 1 FROM types t WHERE t.oid = a.atttypid) AS own_type,
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation THEN
               (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = a.attcollation)
           ELSE '' END AS collate
    FROM pg_catalog.pg_attribute a JOIN rels r ON r.oid = a.attrelid
    JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
    WHERE a.attnum > 0 AND NOT a.attisdropped),
map AS (
    SELECT 'pg_catalog.pg_type'::regclass::oid AS classid, t.oid AS objid,
           CASE WHEN t.base_rel <> 0 AND t.base_relkind <> 'c' THEN (2::int8 << 32) | t.base_rel::int8
                ELSE (1::int8 << 32) | t.base_oid::int8 END AS node
    FROM types t
    UNION ALL
    SELECT 'pg_catalog.pg_class'::regclass::oid, r.oid,
           CASE WHEN r.relkind = 'c' THEN (1::int8 << 32) | r.reltype::int8
                WHEN o.deptype = 'i' THEN (2::int8 << 32) | o.tbl::int8
                ELSE (2::int8 << 32) | r.oid::int8 END
    FROM rels r LEFT JOIN owned o ON o.seq = r.oid
    WHERE r.relkind NOT IN ('i', 'I', 't')
    UNION ALL
    SELECT 'pg_catalog.pg_proc'::regclass::oid, p.oid, (3::int8 << 32) | p.oid::int8 FROM procs p
    UNION ALL
    SELECT 'pg_catalog.pg_rewrite'::regclass::oid, w.oid, (2::int8 << 32) | w.ev_class::int8
    FROM pg_catalog.pg_rewrite w JOIN rels r ON r.oid = w.ev_class WHERE w.rulename = '_RETURN'
    UNION ALL
    SELECT 'pg_catalog.pg_attrdef'::regclass::oid, ad.oid, (2::int8 << 32) | ad.adrelid::int8
    FROM pg_catalog.pg_attrdef ad JOIN cols a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    WHERE a.attgenerated <> ''),
-- LATERAL, so pg_depend is read through its depender index for this
-- schema's objects only, not scanned whole: with tens of thousands of
-- tenants it holds millions of rows.
deps AS (
    SELECT a.node, array_agg(DISTINCT b.node) AS deps
    FROM map a
    CROSS JOIN LATERAL (
        SELECT d.refclassid, d.refobjid FROM pg_catalog.pg_depend d
        WHERE d.classid = a.classid AND d.objid = a.objid AND d.deptype = 'n') d
    JOIN map b ON b.classid = d.refclassid AND b.objid = d.refobjid
    WHERE a.node <> b.node
    GROUP BY a.node),
items (phase, node, prio, sort, kind, stmt, extra) AS (
    -- 10: objects created in dependency order -------------------------------
    SELECT 10, (1::int8 << 32) | t.oid::int8, 1, t.typname::text, 'type',
           format('CREATE TYPE %s AS ENUM (%s)', t.tq,
                  (SELECT coalesce(string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder), '')
                   FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)), NULL
    FROM types t WHERE t.own AND t.typtype = 'e'
    UNION ALL
    SELECT 10, (1::int8 << 32) | t.oid::int8, 1, t.typname, 'type',
           format('CREATE TYPE %s AS (%s)', t.tq,
                  (SELECT coalesce(string_agg(format('%I %s%s', a.attname,
                              pg_catalog.format_type(a.atttypid, a.atttypmod), a.collate), ', ' ORDER BY a.attnum), '')
                   FROM cols a WHERE a.attrelid = t.typrelid)), NULL
    FROM types t WHERE t.own AND t.typtype = 'c'
    UNION ALL
    SELECT 10, (1::int8 << 32) | t.oid::int8, 1, t.typname, 'type',
           format('CREATE DOMAIN %s AS %s%s%s%s', t.tq, pg_catalog.format_type(t.typbasetype, t.typtypmod),
                  CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN
                      (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                       FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                       WHERE co.oid = t.typcollation) ELSE '' END,
                  CASE WHEN t.typdefaultbin IS NOT NULL THEN ' DEFAULT ' || pg_catalog.pg_get_expr(t.typdefaultbin, 0) ELSE '' END,
                  CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END), NULL
    FROM types t JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype WHERE t.own AND t.typtype = 'd'
    UNION ALL
    SELECT 10, (1::int8 << 32) | t.oid::int8, 1, t.typname, 'type',
           format('CREATE TYPE %s AS RANGE (SUBTYPE = %s%s%s%s%s, MULTIRANGE_TYPE_NAME = %I.%I)', t.tq,
                  pg_catalog.format_type(rg.rngsubtype, NULL),
                  CASE WHEN opc.opcdefault THEN '' ELSE format(', SUBTYPE_OPCLASS = %I.%I', opn.nspname, opc.opcname) END,
                  CASE WHEN rg.rngcollation <> 0 AND rg.rngcollation <> st.typcollation THEN
                      (SELECT format(', COLLATION = %I.%I', cn.nspname, co.collname)
                       FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                       WHERE co.oid = rg.rngcollation) ELSE '' END,
                  CASE WHEN rg.rngcanonical <> 0 THEN ', CANONICAL = ' || rg.rngcanonical::regproc::text ELSE '' END,
                  CASE WHEN rg.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || rg.rngsubdiff::regproc::text ELSE '' END,
                  $2::text, mt.typname), NULL
    FROM types t JOIN pg_catalog.pg_range rg ON rg.rngtypid = t.oid
    JOIN pg_catalog.pg_type st ON st.oid = rg.rngsubtype
    JOIN pg_catalog.pg_type mt ON mt.oid = rg.rngmultitypid
    JOIN pg_catalog.pg_opclass opc ON opc.oid = rg.rngsubopc
    JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
    WHERE t.own AND t.typtype = 'r'
    UNION ALL
    SELECT 10, (3::int8 << 32) | p.oid::int8, 2, p.tsig,
           CASE WHEN p.verbatim THEN 'function_verbatim' ELSE 'function' END,
           CASE WHEN starts_with(def, hdr) THEN substr(def, length(hdr) + 1) END,
           format('CREATE %s %I.%I(', p.kw, $2::text, p.proname)
    FROM procs p,
         LATERAL (SELECT pg_catalog.pg_get_functiondef(p.oid) AS def,
                         format('CREATE OR REPLACE %s %I.%I(', p.kw, $1::text, p.proname) AS hdr) f
    WHERE p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 10, (2::int8 << 32) | r.oid::int8, 3, r.relname, 'sequence',
           format('CREATE %sSEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %sCYCLE',
                  CASE WHEN r.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, r.tq,
                  pg_catalog.format_type(q.seqtypid, NULL), q.seqincrement, q.seqmin, q.seqmax, q.seqstart,
                  q.seqcache, CASE WHEN q.seqcycle THEN '' ELSE 'NO ' END), NULL
    FROM rels r JOIN pg_catalog.pg_sequence q ON q.seqrelid = r.oid
    WHERE r.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM owned o WHERE o.seq = r.oid AND o.deptype = 'i')
    UNION ALL
    SELECT 10, (2::int8 << 32) | r.oid::int8, 4, r.relname, 'table',
           format('CREATE %sTABLE %s (%s) USING %I%s',
                  CASE WHEN r.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, r.tq,
                  (SELECT coalesce(string_agg(format('%I %s%s%s%s%s', a.attname,
                        pg_catalog.format_type(a.atttypid, a.atttypmod), a.collate,
                        CASE WHEN a.attgenerated = 's' THEN
                            (SELECT format(' GENERATED ALWAYS AS (%s) STORED', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))
                             FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum)
                        ELSE '' END,
                        CASE WHEN a.attidentity IN ('a', 'd') THEN
                            (SELECT format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %sCYCLE)',
                                    CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                                    $2::text, sc.relname, q.seqincrement, q.seqmin, q.seqmax, q.seqstart, q.seqcache,
                                    CASE WHEN q.seqcycle THEN '' ELSE 'NO ' END)
                             FROM owned o JOIN pg_catalog.pg_class sc ON sc.oid = o.seq
                             JOIN pg_catalog.pg_sequence q ON q.seqrelid = o.seq
                             WHERE o.tbl = a.attrelid AND o.col = a.attnum AND o.deptype = 'i')
                        ELSE '' END,
                        CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ', ' ORDER BY a.attnum), '')
                   FROM cols a WHERE a.attrelid = r.oid),
                  am.amname,
                  CASE WHEN r.opts IS NOT NULL THEN ' WITH (' || r.opts || ')' ELSE '' END), NULL
    FROM rels r JOIN pg_catalog.pg_am am ON am.oid = r.relam WHERE r.relkind = 'r'
    UNION ALL
    SELECT 10, (2::int8 << 32) | r.oid::int8, 5, r.relname, 'view',
           format('CREATE VIEW %s%s AS %s', r.tq,
                  CASE WHEN r.opts IS NOT NULL THEN ' WITH (' || r.opts || ')' ELSE '' END,
                  regexp_replace(pg_catalog.pg_get_viewdef(r.oid), ';\s*$', '')), NULL
    FROM rels r WHERE r.relkind = 'v'
    UNION ALL
    SELECT 10, (2::int8 << 32) | r.oid::int8, 5, r.relname, 'matview',
           format('CREATE MATERIALIZED VIEW %s USING %I%s AS %s WITH NO DATA', r.tq, am.amname,
                  CASE WHEN r.opts IS NOT NULL THEN ' WITH (' || r.opts || ')' ELSE '' END,
                  regexp_replace(pg_catalog.pg_get_viewdef(r.oid), ';\s*$', '')), NULL
    FROM rels r JOIN pg_catalog.pg_am am ON am.oid = r.relam WHERE r.relkind = 'm'
    -- 20: rows (strav_migrations always, other tables with data) ----------------
    UNION ALL
    SELECT 20, NULL, 0, r.relname, CASE WHEN r.relname = $4 THEN 'migrations' ELSE 'data' END,
           CASE WHEN c.list IS NULL THEN format('INSERT INTO %s SELECT FROM %s', r.tq, r.sq)
                ELSE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s', r.tq, c.list, c.exprs, r.sq) END,
           -- the columns a copy writes (generated ones excluded), for COPY
           c.list
    FROM rels r,
         LATERAL (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS list,
                         -- A value of a type of the source (an enum, a composite,
                         -- arrays of them) goes through text into the target's type.
                         string_agg(CASE WHEN a.own_type
                                         THEN format('%I::text::%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))
                                         ELSE quote_ident(a.attname) END, ', ' ORDER BY a.attnum) AS exprs
                  FROM cols a WHERE a.attrelid = r.oid AND a.attgenerated = '') c
    WHERE r.relkind = 'r' AND ($3 OR r.relname = $4)
    -- 40: defaults, sequence ownership and values, column settings ---------------
    UNION ALL
    SELECT 40, NULL, 0, r.relname || '.' || a.attname, 'sql',
           format('ALTER %s %s ALTER COLUMN %I SET DEFAULT %s', r.kw, r.tq, a.attname, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)), NULL
    FROM pg_catalog.pg_attrdef ad JOIN rels r ON r.oid = ad.adrelid
    JOIN cols a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum WHERE a.attgenerated = ''
    UNION ALL
    SELECT 40, NULL, 0, s.relname, 'sql',
           format('ALTER SEQUENCE %s OWNED BY %s.%I', s.tq, t.tq, a.attname), NULL
    FROM owned o JOIN rels s ON s.oid = o.seq JOIN rels t ON t.oid = o.tbl
    JOIN cols a ON a.attrelid = o.tbl AND a.attnum = o.col WHERE o.deptype = 'a'
    UNION ALL
    SELECT 40, NULL, 0, s.relname, 'setval',
           format('SELECT pg_catalog.setval(%L, last_value, is_called) FROM %s', s.tq, s.sq), NULL
    FROM rels s WHERE s.relkind = 'S' AND $3
    UNION ALL
    SELECT 40, NULL, 1, r.relname || '.' || a.attname, 'sql', s.stmt, NULL
    FROM cols a JOIN rels r ON r.oid = a.attrelid,
         LATERAL (VALUES
             (CASE WHEN a.attstattarget >= 0 THEN format('ALTER %s %s ALTER COLUMN %I SET STATISTICS %s', r.kw, r.tq, a.attname, a.attstattarget) END),
             (CASE WHEN a.attstorage <> a.typstorage THEN format('ALTER %s %s ALTER COLUMN %I SET STORAGE %s', r.kw, r.tq, a.attname,
                  CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END) END),
             ((SELECT format('ALTER %s %s ALTER COLUMN %I SET (%s)', r.kw, r.tq, a.attname,
                         string_agg(format('%s=%L', split_part(x, '=', 1), substr(x, strpos(x, '=') + 1)), ', '))
              FROM unnest(a.attoptions) x WHERE x NOT LIKE 'pg\_%' HAVING count(*) > 0)),
             (CASE WHEN a.attcompression IN ('p', 'l') THEN format('ALTER %s %s ALTER COLUMN %I SET COMPRESSION %s', r.kw, r.tq, a.attname,
                  CASE a.attcompression WHEN 'p' THEN 'pglz' ELSE 'lz4' END) END)
         ) s(stmt)
    WHERE r.relkind IN ('r', 'm') AND s.stmt IS NOT NULL
    -- 50-53: constraints and indexes -------------------------------------------
    UNION ALL
    SELECT CASE WHEN c.contype = 'f' THEN 53 ELSE 50 END, NULL, 0, r.relname || '.' || c.conname, 'sql',
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tq, c.conname, pg_catalog.pg_get_constraintdef(c.oid)), NULL
    FROM pg_catalog.pg_constraint c JOIN rels r ON r.oid = c.conrelid
    WHERE c.contype IN ('p', 'u', 'x', 'c', 'f') AND r.relkind = 'r'
    UNION ALL
    SELECT 51, NULL, 0, t.typname || '.' || c.conname, 'sql',
           format('ALTER DOMAIN %s ADD CONSTRAINT %I %s', t.tq, c.conname, pg_catalog.pg_get_constraintdef(c.oid)), NULL
    FROM pg_catalog.pg_constraint c JOIN types t ON t.oid = c.contypid
    -- As an array, so the lookup goes through pg_constraint's contypid index
    -- (as a join, the planner hashes all of pg_constraint: every tenant's).
    WHERE c.contypid = ANY (ARRAY(SELECT oid FROM types))
    UNION ALL
    SELECT 52, NULL, 0, r.relname || '.' || ic.relname, 'sql', pg_catalog.pg_get_indexdef(i.indexrelid, 0, true), NULL
    FROM pg_catalog.pg_index i JOIN rels r ON r.oid = i.indrelid JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                      WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
    UNION ALL
    SELECT 52, NULL, 1, r.relname || '.' || a.attnum, 'sql',
           format('ALTER INDEX %s ALTER COLUMN %s SET STATISTICS %s', r.tq, a.attnum, a.attstattarget), NULL
    FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
    WHERE r.relkind = 'i' AND a.attnum > 0 AND a.attstattarget >= 0
    -- 54-58: triggers, rules, row security, table settings, statistics ------------
    UNION ALL
    SELECT 54, NULL, 0, r.relname || '.' || tg.tgname, 'sql', pg_catalog.pg_get_triggerdef(tg.oid, true), NULL
    FROM pg_catalog.pg_trigger tg JOIN rels r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal
    UNION ALL
    SELECT 54, NULL, 1, r.relname || '.' || tg.tgname, 'sql',
           format('ALTER TABLE %s %s TRIGGER %I', r.tq,
                  CASE tg.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END, tg.tgname), NULL
    FROM pg_catalog.pg_trigger tg JOIN rels r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal AND tg.tgenabled <> 'O'
    UNION ALL
    SELECT 55, NULL, 0, r.relname || '.' || w.rulename, 'sql',
           regexp_replace(pg_catalog.pg_get_ruledef(w.oid, true), ';\s*$', ''), NULL
    FROM pg_catalog.pg_rewrite w JOIN rels r ON r.oid = w.ev_class WHERE w.rulename <> '_RETURN'
    UNION ALL
    SELECT 55, NULL, 1, r.relname || '.' || w.rulename, 'sql',
           format('ALTER TABLE %s %s RULE %I', r.tq,
                  CASE w.ev_enabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END, w.rulename), NULL
    FROM pg_catalog.pg_rewrite w JOIN rels r ON r.oid = w.ev_class WHERE w.rulename <> '_RETURN' AND w.ev_enabled <> 'O'
    UNION ALL
    SELECT 56, NULL, 0, r.relname, 'sql', format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.tq), NULL
    FROM rels r WHERE r.relrowsecurity
    UNION ALL
    SELECT 56, NULL, 0, r.relname, 'sql', format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', r.tq), NULL
    FROM rels r WHERE r.relforcerowsecurity
    UNION ALL
    SELECT 56, NULL, 1, r.relname || '.' || pol.polname, 'sql',
           format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', pol.polname, r.tq,
                  CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                  CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                  (SELECT string_agg(CASE WHEN x = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(x)) END, ', ')
                   FROM unnest(pol.polroles) x),
                  CASE WHEN pol.polqual IS NOT NULL THEN ' USING (' || pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) || ')' ELSE '' END,
                  CASE WHEN pol.polwithcheck IS NOT NULL THEN ' WITH CHECK (' || pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) || ')' ELSE '' END), NULL
    FROM pg_catalog.pg_policy pol JOIN rels r ON r.oid = pol.polrelid
    UNION ALL
    SELECT 57, NULL, 0, r.relname, 'sql',
           format('ALTER TABLE %s REPLICA IDENTITY %s', r.tq,
                  CASE r.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING' ELSE
                      (SELECT format('USING INDEX %I', ic.relname) FROM pg_catalog.pg_index i
                       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                       WHERE i.indrelid = r.oid AND i.indisreplident) END), NULL
    FROM rels r WHERE r.relkind IN ('r', 'm') AND r.relreplident IN ('f', 'n', 'i')
    UNION ALL
    SELECT 57, NULL, 1, r.relname, 'sql', format('ALTER TABLE %s CLUSTER ON %I', r.tq, ic.relname), NULL
    FROM pg_catalog.pg_index i JOIN rels r ON r.oid = i.indrelid JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indisclustered
    UNION ALL
    SELECT 58, NULL, 0, s.stxname, 'sql',
           CASE WHEN starts_with(def, hdr) THEN format('CREATE STATISTICS %I.%I', $2::text, s.stxname) || substr(def, length(hdr) + 1) END, NULL
    FROM stats s,
         LATERAL (SELECT pg_catalog.pg_get_statisticsobjdef(s.oid) AS def,
                         format('CREATE STATISTICS %I.%I', $1::text, s.stxname) AS hdr) f
    UNION ALL
    SELECT 58, NULL, 1, s.stxname, 'sql', format('ALTER STATISTICS %I.%I SET STATISTICS %s', $2::text, s.stxname, s.stxstattarget), NULL
    FROM stats s WHERE s.stxstattarget >= 0
    UNION ALL
    SELECT 59, (2::int8 << 32) | r.oid::int8, 0, r.relname, 'refresh', format('REFRESH MATERIALIZED VIEW %s', r.tq), NULL
    FROM rels r WHERE r.relkind = 'm' AND r.relispopulated
    UNION ALL
    SELECT 60, NULL, 0, p.tsig, 'search_path', format('ALTER %s %s SET search_path TO ', p.kw, p.tsig), substr(c, length('search_path=') + 1)
    FROM procs p, unnest(p.proconfig) c WHERE c LIKE 'search\_path=%'
    -- 70: comments (looked up from the schema's objects, by index) ---------------
    UNION ALL
    SELECT 70, NULL, 0, '', 'sql', format('COMMENT ON SCHEMA %I IS %L', $2::text, d.description), NULL
    FROM ns JOIN pg_catalog.pg_description d
         ON d.objoid = ns.nsp AND d.classoid = 'pg_catalog.pg_namespace'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 70, NULL, 1, r.relname || '.' || d.objsubid, 'sql',
           CASE WHEN d.objsubid = 0 THEN format('COMMENT ON %s %s IS %L', r.kw, r.tq, d.description)
                ELSE format('COMMENT ON COLUMN %s.%I IS %L', r.tq,
                            (SELECT a.attname FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = r.oid AND a.attnum = d.objsubid), d.description) END, NULL
    FROM rels r,
         LATERAL (SELECT d.objsubid, d.description FROM pg_catalog.pg_description d
                  WHERE d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_class'::regclass) d
    WHERE NOT (r.relkind = 'c' AND d.objsubid = 0)
    UNION ALL
    SELECT 70, NULL, 2, t.typname, 'sql', format('COMMENT ON %s %s IS %L', t.kw, t.tq, d.description), NULL
    FROM types t JOIN pg_catalog.pg_description d
         ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::regclass AND d.objsubid = 0
    WHERE t.own
    UNION ALL
    SELECT 70, NULL, 3, p.tsig, 'sql', format('COMMENT ON %s %s IS %L', p.kw, p.tsig, d.description), NULL
    FROM procs p JOIN pg_catalog.pg_description d
         ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 70, NULL, 4, c.conname, 'sql', format('COMMENT ON CONSTRAINT %I ON %s IS %L', c.conname, c.owner, d.description), NULL
    FROM (SELECT c.oid, c.conname, r.tq AS owner FROM rels r JOIN pg_catalog.pg_constraint c ON c.conrelid = r.oid
          UNION ALL
          SELECT c.oid, c.conname, 'DOMAIN ' || t.tq FROM types t JOIN pg_catalog.pg_constraint c ON c.contypid = t.oid
          WHERE t.own AND c.contypid = ANY (ARRAY(SELECT oid FROM types))) c
    JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_constraint'::regclass
    UNION ALL
    SELECT 70, NULL, 5, tg.tgname, 'sql', format('COMMENT ON TRIGGER %I ON %s IS %L', tg.tgname, r.tq, d.description), NULL
    FROM rels r JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = r.oid
    JOIN pg_catalog.pg_description d ON d.objoid = tg.oid AND d.classoid = 'pg_catalog.pg_trigger'::regclass
    UNION ALL
    SELECT 70, NULL, 6, w.rulename, 'sql', format('COMMENT ON RULE %I ON %s IS %L', w.rulename, r.tq, d.description), NULL
    FROM rels r JOIN pg_catalog.pg_rewrite w ON w.ev_class = r.oid
    JOIN pg_catalog.pg_description d ON d.objoid = w.oid AND d.classoid = 'pg_catalog.pg_rewrite'::regclass
    WHERE w.rulename <> '_RETURN'
    UNION ALL
    SELECT 70, NULL, 7, pol.polname, 'sql', format('COMMENT ON POLICY %I ON %s IS %L', pol.polname, r.tq, d.description), NULL
    FROM rels r JOIN pg_catalog.pg_policy pol ON pol.polrelid = r.oid
    JOIN pg_catalog.pg_description d ON d.objoid = pol.oid AND d.classoid = 'pg_catalog.pg_policy'::regclass
    UNION ALL
    SELECT 70, NULL, 8, s.stxname, 'sql', format('COMMENT ON STATISTICS %I.%I IS %L', $2::text, s.stxname, d.description), NULL
    FROM stats s JOIN pg_catalog.pg_description d
         ON d.objoid = s.oid AND d.classoid = 'pg_catalog.pg_statistic_ext'::regclass
    -- 80: owners, where they differ from the role running the clone ----------------
    UNION ALL
    SELECT 80, NULL, 0, '', 'sql', format('ALTER SCHEMA %I OWNER TO %I', $2::text, pg_catalog.pg_get_userbyid(ns.nspowner)), NULL
    FROM ns, me WHERE ns.nspowner <> me.me
    UNION ALL
    SELECT 80, NULL, 1, r.relname, 'sql', format('ALTER %s %s OWNER TO %I', r.kw, r.tq, pg_catalog.pg_get_userbyid(r.relowner)), NULL
    FROM rels r, me WHERE r.relowner <> me.me AND r.relkind IN ('r', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM owned o WHERE o.seq = r.oid)
    UNION ALL
    SELECT 80, NULL, 2, t.typname, 'sql', format('ALTER %s %s OWNER TO %I', t.kw, t.tq, pg_catalog.pg_get_userbyid(t.typowner)), NULL
    FROM types t, me WHERE t.typowner <> me.me AND t.own
    UNION ALL
    SELECT 80, NULL, 3, p.tsig, 'sql', format('ALTER %s %s OWNER TO %I', p.kw, p.tsig, pg_catalog.pg_get_userbyid(p.proowner)), NULL
    FROM procs p, me WHERE p.proowner <> me.me AND p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 80, NULL, 4, s.stxname, 'sql', format('ALTER STATISTICS %I.%I OWNER TO %I', $2::text, s.stxname, pg_catalog.pg_get_userbyid(s.stxowner)), NULL
    FROM stats s, me WHERE s.stxowner <> me.me
    -- 90: privileges ----------------------------------------------------------------
    UNION ALL
    SELECT 90, NULL, 0, format('%s %s %s %s', o.ord, o.name, coalesce(o.col, ''), lpad(s.n::text, 10, '0')), 'sql', s.stmt, NULL
    FROM (
        SELECT 'SCHEMA' AS kw, quote_ident($2::text) AS name, NULL::text AS col, ns.nspowner AS owner, ns.nspacl AS acl, 0 AS ord
        FROM ns WHERE ns.nspacl IS NOT NULL
        UNION ALL
        SELECT CASE WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.tq, NULL, r.relowner, r.relacl, 1
        FROM rels r WHERE r.relacl IS NOT NULL AND r.relkind IN ('r', 'v', 'm', 'S', 'f')
        UNION ALL
        SELECT 'TABLE', r.tq, quote_ident(a.attname), r.relowner, a.attacl, 2
        FROM cols a JOIN rels r ON r.oid = a.attrelid WHERE a.attacl IS NOT NULL
        UNION ALL
        SELECT p.kw, p.tsig, NULL, p.proowner, p.proacl, 3 FROM procs p WHERE p.proacl IS NOT NULL
        UNION ALL
        SELECT t.kw, t.tq, NULL, t.typowner, t.typacl, 4 FROM types t WHERE t.typacl IS NOT NULL AND t.own
    ) o,
    LATERAL (
        SELECT 0 AS n, format('REVOKE ALL ON %s %s FROM PUBLIC', o.kw, o.name) AS stmt WHERE o.col IS NULL
        UNION ALL
        SELECT 1, format('REVOKE ALL ON %s %s FROM %I', o.kw, o.name, pg_catalog.pg_get_userbyid(o.owner)) WHERE o.col IS NULL
        UNION ALL
        SELECT 2 + min(x.ord), format('GRANT %s%s ON %s %s TO %s%s',
                      string_agg(x.privilege_type, ', '), coalesce(' (' || o.col || ')', ''), o.kw, o.name,
                      CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,
                      CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM aclexplode(o.acl) WITH ORDINALITY x(grantor, grantee, privilege_type, is_grantable, ord)
        GROUP BY x.grantee, x.is_grantable
        ORDER BY 1
    ) s
    UNION ALL
    SELECT 91, NULL, 0, da.defaclobjtype || x.grantee, 'sql',
           format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON %s TO %s%s',
                  pg_catalog.pg_get_userbyid(da.defaclrole), $2::text, string_agg(x.privilege_type, ', '),
                  CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                       WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END,
                  CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,
                  CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), NULL
    FROM pg_catalog.pg_default_acl da JOIN ns ON da.defaclnamespace = ns.nsp,
         LATERAL aclexplode(da.defaclacl) x
    GROUP BY da.defaclrole, da.defaclobjtype, x.grantee, x.is_grantable
    -- -1: what the clone cannot copy --------------------------------------------------
    UNION ALL
    SELECT -1, NULL, 0, r.relname,
           CASE WHEN r.relkind = 'p' THEN 'partitioned table' WHEN r.relkind = 'f' THEN 'foreign table'
                WHEN r.relispartition THEN 'partition' WHEN r.reloftype <> 0 THEN 'typed table'
                ELSE 'inherited table' END,
           r.sq, NULL
    FROM rels r
    WHERE r.relkind IN ('p', 'f') OR r.relispartition OR r.reloftype <> 0
       OR (r.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = r.oid OR h.inhparent = r.oid))
    UNION ALL
    SELECT -1, NULL, 0, p.proname, CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'window function' END,
           format('%I.%I', $1::text, p.proname), NULL
    FROM procs p WHERE p.prokind NOT IN ('f', 'p')
    UNION ALL
    SELECT -1, NULL, 0, t.typname, CASE t.typtype WHEN 'p' THEN 'shell type' ELSE 'base type' END,
           format('%I.%I', $1::text, t.typname), NULL
    FROM types t WHERE NOT t.implicit AND t.typtype IN ('b', 'p')
    UNION ALL
    -- collations, operators, text search objects, extensions, ...
    SELECT -1, NULL, 0, '', '', pg_catalog.pg_describe_object(m.classid, m.objid, 0), NULL
    FROM members m
    WHERE m.classid NOT IN ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_type'::regclass,
                            'pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_statistic_ext'::regclass)
)
SELECT i.phase, i.node, d.deps, i.prio, i.sort, i.kind, i.stmt, i.extra
FROM items i LEFT JOIN deps d ON d.node = i.node AND i.phase = 10
ORDER BY i.phase, i.prio, i.sort
