#!/usr/bin/env bash
# Creates the MariaDB/MySQL databases and the user that the test suite uses. Idempotent.
# Usage: scripts/test-databases.sh [NAME ...]   (default: questline_test)
# Each NAME gets NAME and NAME_migrations. The user questline/questline may use every database
# whose name starts with questline_test, so parallel runs can each take their own.
# Connects as root through the local socket (root has an empty password on dev and CI machines).
set -euo pipefail
client=$(command -v mariadb || command -v mysql) || {
    echo "test-databases: no mariadb/mysql client on PATH" >&2
    exit 1
}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(questline_test)
{
    for name in "${names[@]}"; do
        [[ $name =~ ^questline_test[A-Za-z0-9_]*$ ]] || {
            echo "test-databases: '$name' must start with questline_test (letters, digits, _)" >&2
            exit 1
        }
        echo "CREATE DATABASE IF NOT EXISTS \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        echo "CREATE DATABASE IF NOT EXISTS \`${name}_migrations\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    done
    cat <<'SQL'
CREATE USER IF NOT EXISTS 'questline'@'localhost' IDENTIFIED BY 'questline';
CREATE USER IF NOT EXISTS 'questline'@'127.0.0.1' IDENTIFIED BY 'questline';
GRANT ALL PRIVILEGES ON `questline\_test%`.* TO 'questline'@'localhost', 'questline'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
} | "$client" -uroot
