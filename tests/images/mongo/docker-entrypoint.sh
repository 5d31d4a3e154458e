#!/usr/bin/env bash
#
# Entrypoint of labforge-test/mongo:nx: runs nx-27017 (a MongoDB wire-protocol server on SQLite)
# in place of mongod, following the official mongo image's contract where it can:
#   `mongod [options]` (the default command) or options alone start the server on 0.0.0.0:27017
#   with its data in /data/db (a volume); see nx_server.py for the mongod options understood.
#   MONGO_INITDB_ROOT_USERNAME / MONGO_INITDB_ROOT_PASSWORD (or their *_FILE variants) create the
#   root user (authentication database admin) on first start and enable authentication.
#   Anything else is run as a command (e.g. `bash`, `mongosh`).
# Not supported: /docker-entrypoint-initdb.d scripts (*.js needs a real mongosh), MONGO_INITDB_DATABASE.
set -Eeuo pipefail
shopt -s nullglob

die() {
	printf 'docker-entrypoint.sh: error: %s\n' "$*" >&2
	exit 1
}

# file_env VAR: exports VAR from $VAR, else from the file named by $VAR_FILE.
file_env() {
	local var=$1 file_var="${1}_FILE"
	if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
		die "both $var and $file_var are set, but they are exclusive"
	fi
	if [[ -n ${!file_var:-} ]]; then
		export "$var=$(<"${!file_var}")"
	fi
	unset "$file_var"
}

if [[ ${1:-} == -* ]]; then
	set -- mongod "$@"
fi
if [[ ${1:-} != mongod ]]; then
	exec "$@"
fi
shift

if [[ $(id -u) == 0 ]]; then
	find /data/db \! -user mongodb -exec chown mongodb:mongodb '{}' +
	# Start again as the mongodb user (what gosu does in the official image).
	export HOME=/data/db
	exec setpriv --reuid=mongodb --regid=mongodb --init-groups "${BASH_SOURCE[0]}" mongod "$@"
fi

file_env MONGO_INITDB_ROOT_USERNAME
file_env MONGO_INITDB_ROOT_PASSWORD
if [[ -n ${MONGO_INITDB_ROOT_USERNAME:-} && -z ${MONGO_INITDB_ROOT_PASSWORD:-} ]] ||
	[[ -z ${MONGO_INITDB_ROOT_USERNAME:-} && -n ${MONGO_INITDB_ROOT_PASSWORD:-} ]]; then
	die 'both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD must be specified, or neither'
fi
for script in /docker-entrypoint-initdb.d/*; do
	echo "docker-entrypoint.sh: ignoring $script (initdb scripts are not supported by this nx-27017 stand-in)" >&2
done

exec /opt/nx-27017/bin/python /opt/nx-27017/labforge/nx_server.py "$@"
