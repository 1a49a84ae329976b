-- Rows per table of the application's schema, as "table<TAB>rows", in a fixed order.
-- deploy/backup.sh writes it into a backup (inside the dump's snapshot) and
-- deploy/restore.sh compares the restored database with it.
SELECT c.relname,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                           false, true, '')))[1]::text
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
ORDER BY c.relname COLLATE "C";
