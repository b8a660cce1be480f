#!/usr/bin/env bash
# The MariaDB/MySQL leg of `make test`: creates the test databases, then runs PYTEST with
# DATABASE_URL=MYSQL_TEST_URL. With no server answering it says so in one line and exits 0,
# unless QUESTLINE_REQUIRE_MYSQL=1 (set by CI), which turns the skip into a failure.
set -euo pipefail
pytest_bin=$1
url=${MYSQL_TEST_URL:?MYSQL_TEST_URL is not set}
database=${url##*/}
database=${database%%\?*}

admin=$(command -v mariadb-admin || command -v mysqladmin || true)
if [ -z "$admin" ] || ! "$admin" -uroot ping --silent >/dev/null 2>&1; then
    if [ "${QUESTLINE_REQUIRE_MYSQL:-0}" = 1 ]; then
        echo "test-mysql: no MariaDB/MySQL server answers, and QUESTLINE_REQUIRE_MYSQL=1 requires one" >&2
        exit 1
    fi
    echo "test-mysql: MariaDB leg skipped: no server answers; start MariaDB (root over the local socket) to run it"
    exit 0
fi
"$(dirname "$0")/test-databases.sh" "$database"
DATABASE_URL=$url "$pytest_bin"
