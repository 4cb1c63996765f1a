-- Text anyone can put in a log: a literal, an alias and a missing table
-- that are markup, from a session whose application_name is markup too.
SELECT '<script>alert(1)</script>' AS "<b>bold</b>";
SELECT * FROM "<script>alert(2)</script>";
