#!/usr/bin/env bash
# Make and start a streaming read replica of a PostgreSQL server, for tests and local trials.
#
#   deploy/postgres/make-replica.sh PRIMARY_PORT REPLICA_PORT DATA_DIR
#
# pg_basebackup -R copies the primary at 127.0.0.1:PRIMARY_PORT (user postgres; pg_hba.conf
# needs a "host replication" entry, which .ci/run adds) into DATA_DIR, writes the standby
# settings, and starts the copy on 127.0.0.1:REPLICA_PORT as a hot standby. Run as root it
# works as the postgres OS user (PostgreSQL refuses to run as root). Stop it with
#   pg_ctl -D DATA_DIR stop -m fast     (as the same user)
set -euo pipefail
primary_port=$1 replica_port=$2 data=$3
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$data" && chmod 700 "$data"
[ "$(id -u)" = 0 ] && chown postgres: "$data"
as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$data" -R -X stream -c fast
# Debian keeps the server's config outside the data folder: give the copy its own.
as_owner tee "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $replica_port
unix_socket_directories = '$data'
hot_standby = on
max_connections = 200
CONF
as_owner tee "$data/pg_hba.conf" >/dev/null <<CONF
local all all trust
host all all 127.0.0.1/32 trust
CONF
as_owner touch "$data/pg_ident.conf"
as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start
