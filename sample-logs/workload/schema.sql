CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL CHECK (balance > -1000));
CREATE TABLE orders (id serial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts, note text NOT NULL);
INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 100) g;
INSERT INTO orders (account_id, note) SELECT 1 + g % 100, 'order ' || g FROM generate_series(1, 300) g;
CREATE TABLE big AS SELECT g, md5(g::text) AS md5 FROM generate_series(1, 200000) g;
ANALYZE big;
CREATE TABLE secrets (k text);
GRANT SELECT ON accounts TO bob;
GRANT INSERT ON orders TO bob;
GRANT USAGE ON SEQUENCE orders_id_seq TO bob;
CREATE FUNCTION fail(n int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'custom failure %', n;
END $$;
