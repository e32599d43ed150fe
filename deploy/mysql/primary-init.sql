-- The primary's first start (docker-entrypoint-initdb.d): an account for the replica to follow
-- with, then a clean binary log, so the replica starts from an empty history instead of
-- replaying the image's own setup (it makes its own database and user).
CREATE USER 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
RESET BINARY LOGS AND GTIDS;
