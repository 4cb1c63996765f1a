SET work_mem = '64kB';
SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT count(*) FROM (SELECT md5 FROM big ORDER BY md5 OFFSET 100000) s;
-- Every plan from here on is logged, fast or not.
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_format = 'json';
-- Correlated conditions (every multiple of 200 is one of 100): the planner
-- multiplies their selectivities and expects a few rows where 1000 come,
-- so the join is misestimated.
SELECT b1.g, count(*) FROM big b1 JOIN big b2 ON b1.g = b2.g WHERE b1.g % 100 = 0 AND b1.g % 200 = 0 GROUP BY b1.g ORDER BY 2 DESC LIMIT 3;
SELECT pg_sleep(0.06);
SET auto_explain.log_format = 'text';
-- A hash join of 200,000 rows a side: with 64kB of work_mem the hash is
-- built in many batches written to disk.
SELECT count(*) FROM big b1 JOIN big b2 ON b1.md5 = b2.md5;
-- A filter that keeps 0.4% of a 200,000-row sequential scan.
SELECT count(*) FROM big WHERE md5 LIKE 'ab%';
-- A nested loop whose inner index scan runs once per outer row (2,000 times).
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT count(*) FROM generate_series(1, 2000) s JOIN accounts a ON a.id = s % 100 + 1;
