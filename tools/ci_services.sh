#!/usr/bin/env bash
# Make sure the five services of the compatibility suite answer, create what it needs, and
# install the system libraries of the optional native clients.   Usage: tools/ci_services.sh
#
# The native clients themselves (mysqlclient, pylibmc, pyodbc) are pip-installed by whoever makes
# the environment: the Makefile into .venv, tox.ini into each test env. Each is optional: a test
# whose package is missing skips and names it.
#
# Idempotent. Starts a service that does not answer when it knows how (Debian-style installs,
# Homebrew), waits up to 90 s for each, creates the `test` databases. Hosts and ports follow the
# suite's PATCHKIT_COMPAT_<NAME>_HOST/_PORT variables (docs/services.md). Package installation
# is best effort (apt-get as root or with passwordless sudo; Homebrew on macOS) and never fails
# the script. Exit status 1 when a service still does not answer.
set -u

WAIT_S="${PATCHKIT_SERVICES_WAIT:-90}"

note() { printf 'ci_services: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

host() { local v="PATCHKIT_COMPAT_${1}_HOST"; printf '%s' "${!v:-127.0.0.1}"; }
port() { local v="PATCHKIT_COMPAT_${1}_PORT"; printf '%s' "${!v:-$2}"; }

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 1; fi
}

start_service() {
    case "$1" in
    PG)
        if have pg_ctlcluster && [ -d /etc/postgresql ]; then
            as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -1)" main start
        elif have brew; then brew services start postgresql@16 || brew services start postgresql; fi ;;
    MYSQL)
        if [ -x /usr/sbin/mariadbd ]; then
            as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        elif have brew; then brew services start mariadb; fi ;;
    REDIS)
        if have redis-server && ! have brew; then
            as_root mkdir -p /var/lib/redis /var/log/redis
            as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
                --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
        elif have brew; then brew services start redis; fi ;;
    AMQP)
        if have rabbitmq-server && ! have brew; then as_root rabbitmq-server -detached
        elif have brew; then brew services start rabbitmq; fi ;;
    MQTT)
        if have mosquitto && ! have brew; then as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
        elif have brew; then brew services start mosquitto; fi ;;
    esac
}

wait_for() {  # NAME DEFAULT_PORT TITLE
    local h p i
    h="$(host "$1")"; p="$(port "$1" "$2")"
    if answers "$h" "$p"; then note "$3 answers at $h:$p"; return 0; fi
    if [ "$h" = 127.0.0.1 ] || [ "$h" = localhost ]; then
        note "$3 does not answer at $h:$p; starting it"
        start_service "$1" >/dev/null 2>&1 || note "could not start $3"
    fi
    for ((i = 0; i < WAIT_S; i++)); do
        if answers "$h" "$p"; then note "$3 answers at $h:$p"; return 0; fi
        sleep 1
    done
    note "$3 does not answer at $h:$p after ${WAIT_S} s"; return 1
}

create_databases() {
    local pg_user="${PATCHKIT_COMPAT_PG_USER:-postgres}" db="${PATCHKIT_COMPAT_PG_DB:-test}"
    if have psql; then
        local pg=(psql -h "$(host PG)" -p "$(port PG 5432)" -d postgres -tAq)
        # Homebrew's superuser is the login user: give the suite the role it expects.
        "${pg[@]}" -U "$pg_user" -c 'SELECT 1' >/dev/null 2>&1 \
            || "${pg[@]}" -c "CREATE ROLE \"$pg_user\" SUPERUSER LOGIN" >/dev/null 2>&1 || true
        "${pg[@]}" -U "$pg_user" -c "SELECT 1 FROM pg_database WHERE datname = '$db'" 2>/dev/null \
            | grep -q 1 || "${pg[@]}" -U "$pg_user" -c "CREATE DATABASE \"$db\"" \
            || note "could not create PostgreSQL database $db"
    fi
    local my_db="${PATCHKIT_COMPAT_MYSQL_DB:-test}" my_user="${PATCHKIT_COMPAT_MYSQL_USER:-root}"
    local mysql; mysql="$(command -v mariadb || command -v mysql || true)"
    if [ -n "$mysql" ]; then
        "$mysql" -h "$(host MYSQL)" -P "$(port MYSQL 3306)" --protocol=TCP -u "$my_user" \
            --password="${PATCHKIT_COMPAT_MYSQL_PASSWORD:-}" \
            -e "CREATE DATABASE IF NOT EXISTS \`$my_db\`" 2>/dev/null \
        || "$mysql" -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password \
               USING PASSWORD(''); CREATE DATABASE IF NOT EXISTS \`$my_db\`" 2>/dev/null \
        || note "could not create MariaDB database $my_db (log in as $my_user over TCP?)"
    fi
}

# System libraries the optional native clients build against or load: libmariadb-dev and
# pkg-config (mysqlclient), libmemcached-dev (pylibmc), unixodbc (pyodbc's libodbc),
# libldap2-dev and libsasl2-dev (python-ldap).
APT_NATIVE=(libmariadb-dev pkg-config libmemcached-dev unixodbc chromium libldap2-dev libsasl2-dev)
BREW_NATIVE=(mysql-client pkg-config libmemcached unixodbc)
# Servers that peers start themselves on a free port (compat_tests/peers): memcached, slapd
# (ldap-utils for debugging it by hand) and ZooKeeper (which pulls in a Java runtime). Debian
# starts system memcached/slapd services on install where systemd runs; they keep their usual
# ports and do not conflict. Homebrew's openldap is keg-only: the slapd peer looks in its prefix.
# openssh-server's sshd and openssh-client's ssh-keygen: compat_tests/peers/sshd.py (paramiko).
APT_SERVERS=(memcached slapd ldap-utils zookeeper openssh-server openssh-client)
BREW_SERVERS=(memcached openldap zookeeper)

install_native_libraries() {
    if have apt-get && as_root true 2>/dev/null; then
        as_root apt-get update -qq >/dev/null 2>&1 || note "apt-get update failed"
        local p apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends)
        local pkgs=("${APT_NATIVE[@]}" "${APT_SERVERS[@]}")
        if as_root "${apt[@]}" "${pkgs[@]}" >/dev/null 2>&1; then
            note "installed ${pkgs[*]}"
        else  # one missing package must not keep the others out
            for p in "${pkgs[@]}"; do
                as_root "${apt[@]}" "$p" >/dev/null 2>&1 \
                    || note "apt-get could not install $p: the tests that need it will skip"
            done
        fi
    elif have brew; then
        local f
        for f in "${BREW_NATIVE[@]}" "${BREW_SERVERS[@]}"; do
            brew list "$f" >/dev/null 2>&1 || brew install "$f" >/dev/null 2>&1 \
                || note "brew could not install $f"
        done
        # mysql-client is keg-only: later steps of a GitHub job find it through $GITHUB_ENV.
        local pc; pc="$(brew --prefix mysql-client 2>/dev/null)/lib/pkgconfig"
        if [ -n "${GITHUB_ENV:-}" ] && [ -d "$pc" ]; then
            echo "PKG_CONFIG_PATH=$pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" >>"$GITHUB_ENV"
        fi
    else
        note "neither apt-get (as root) nor brew: native client libraries not installed"
    fi
}

# The stomp.py row talks to RabbitMQ's STOMP plugin (port 61613); enabling it once per machine
# is enough (the setting is kept), and a broker without it only makes that row skip.
enable_rabbitmq_stomp() {
    local h; h="$(host AMQP)"
    [ "$h" = 127.0.0.1 ] || [ "$h" = localhost ] || return 0
    answers "$h" "${PATCHKIT_COMPAT_STOMP_PORT:-61613}" && return 0
    if have rabbitmq-plugins && as_root rabbitmq-plugins enable rabbitmq_stomp >/dev/null 2>&1; then
        note "enabled RabbitMQ's STOMP plugin"
    else
        note "could not enable RabbitMQ's STOMP plugin: the stomp.py row will skip"
    fi
}

status=0
wait_for PG 5432 PostgreSQL || status=1
wait_for MYSQL 3306 MariaDB || status=1
wait_for REDIS 6379 Redis || status=1
wait_for AMQP 5672 RabbitMQ || status=1
wait_for MQTT 1883 Mosquitto || status=1
create_databases
enable_rabbitmq_stomp
install_native_libraries
exit "$status"
