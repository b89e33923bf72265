WITH saved AS MATERIALIZED (
    SELECT current_setting('search_path') AS sp,
           current_setting('check_function_bodies') AS cfb,
           current_setting('row_security') AS rs)
SELECT
    EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS source_exists,
    EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $2)
        OR EXISTS (SELECT 1 FROM public.strav_schemas WHERE name = $2) AS target_taken,
    (SELECT domain FROM public.strav_schemas WHERE name = $1) AS domain,
    format('SELECT pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended(%L, 0))', $4 || $1)
        || coalesce((SELECT format('; LOCK TABLE %s IN %s MODE',
                                   string_agg(format('%I.%I', $1::text, c.relname), ', ' ORDER BY c.relname),
                                   CASE WHEN $3 THEN 'SHARE' ELSE 'ACCESS SHARE' END)
                     FROM pg_catalog.pg_namespace n
                     JOIN pg_catalog.pg_depend d
                          ON d.refclassid = 'pg_catalog.pg_namespace'::regclass AND d.refobjid = n.oid
                             AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'n'
                     JOIN pg_catalog.pg_class c ON c.oid = d.objid
                     WHERE n.nspname = $1 AND c.relkind = 'r'), '') AS locks,
    set_config('strav.clone_search_path', saved.sp, true) IS NOT NULL
        AND set_config('strav.clone_check_function_bodies', saved.cfb, true) IS NOT NULL
        AND set_config('strav.clone_row_security', saved.rs, true) IS NOT NULL
        AND set_config('search_path', format('%I, pg_catalog, pg_temp', $1::text), true) IS NOT NULL AS ready
FROM saved