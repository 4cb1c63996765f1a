"""Extended-protocol statements with multi-line bind parameters (psycopg 3)."""
import sys

import psycopg

with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    cur = conn.cursor()
    hostile = "line one\nline 'two'\n2026-01-01 00:00:00.000 UTC [1] LOG:  fake, \"quoted\""
    cur.execute("SELECT %s::text AS note, %s::int AS n", (hostile, 7))
    cur.execute("SELECT id FROM accounts WHERE id = %s", (5,), prepare=True)
    cur.execute("SELECT id FROM accounts WHERE id = %s", (6,), prepare=True)
    cur.execute("INSERT INTO orders (account_id, note) VALUES (%s, %s)", (3, "multi\nline\nnote"))
    try:
        cur.execute("INSERT INTO accounts (id, balance) VALUES (%s, %s)", (1, 0))
    except psycopg.errors.UniqueViolation:
        pass
    cur.execute("SELECT pg_sleep(%s)", (0.06,))
