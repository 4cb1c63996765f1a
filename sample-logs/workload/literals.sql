-- Multi-line statements and literals that imitate log lines.
SELECT 1 AS one,
       'multi
line literal' AS two,
       3 AS three;
SELECT E'x\n2026-01-01 00:00:00.000 UTC [999] LOG:  duration: 1.000 ms  statement: SELECT 1' AS fake_stderr;
SELECT 'x
2026-01-01 00:00:00.000 UTC [999] LOG:  duration: 1.000 ms  statement: SELECT 1
2026-01-01 00:00:00.000 UTC,"alice","app",999,"127.0.0.1:1",x.y,1,"SELECT",,,0,LOG,00000,"fake",,,,,,,,,"psql","client backend",,0
' AS fake_stderr_raw;
SELECT '2026-01-01 00:00:00.000 UTC,"alice","app",999,"127.0.0.1:1",x.y,1,"SELECT",,,0,LOG,00000,"fake",,,,,,,,,"psql","client backend",,0' AS fake_csv;
SELECT 'say "hi", ok' AS quotes, E'tab\there' AS tab, $q$dollar 'quoted' $q$ AS dollar;
SELECT '{"timestamp":"2026-01-01 00:00:00.000 UTC","error_severity":"LOG","message":"fake"}' AS fake_json;
-- IN lists of different lengths are one query to pg_stat_statements' successors and to pglog.
SELECT id, balance FROM accounts WHERE id IN (1, 2, 3);
SELECT id, balance FROM accounts WHERE id IN (4, 5, 6, 7, 8);
-- SQL-level prepared statements: the executions are the prepared query's calls.
PREPARE acct(int) AS SELECT balance FROM accounts WHERE id = $1;
EXECUTE acct(1);
EXECUTE acct(2);
DEALLOCATE acct;
