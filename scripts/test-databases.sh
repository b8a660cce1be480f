#!/usr/bin/env bash
# Creates the MariaDB/MySQL databases and the user that the test suite uses. Idempotent.
# Connects as root through the local socket (root has an empty password on dev and CI machines).
set -euo pipefail
client=$(command -v mariadb || command -v mysql) || {
    echo "test-databases: no mariadb/mysql client on PATH" >&2
    exit 1
}
"$client" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS questline_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS questline_test_migrations CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'questline'@'localhost' IDENTIFIED BY 'questline';
CREATE USER IF NOT EXISTS 'questline'@'127.0.0.1' IDENTIFIED BY 'questline';
GRANT ALL PRIVILEGES ON questline_test.* TO 'questline'@'localhost', 'questline'@'127.0.0.1';
GRANT ALL PRIVILEGES ON questline_test_migrations.* TO 'questline'@'localhost', 'questline'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
