SELECT count(*) FROM (SELECT abalance FROM pgbench_accounts ORDER BY abalance, aid DESC) s;
