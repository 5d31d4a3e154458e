#!/usr/bin/env bash
#
# Entrypoint of labforge-test/postgres:15 (Debian's postgresql-15), honouring the official postgres
# image's contract so that what works against one works against the other:
#   POSTGRES_PASSWORD      superuser password; required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER          superuser name (default: postgres)
#   POSTGRES_DB            database created on first start (default: $POSTGRES_USER)
#   POSTGRES_INITDB_ARGS   extra initdb arguments (split on whitespace)
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for connections from other hosts (default: scram-sha-256)
#   *_FILE variants of the first four (Docker secrets)
#   PGDATA                 (/var/lib/postgresql/data, a volume) is initialised when empty and
#                          reused otherwise; the variables above only matter for initialisation.
#   /docker-entrypoint-initdb.d/*.sql, *.sql.gz, *.sh run once, on initialisation, against a
#                          temporary server reachable through the unix socket only.
# The server runs as the postgres user, as PID 1 (the image's stop signal is SIGINT: fast shutdown).
set -Eeuo pipefail
shopt -s nullglob

die() {
	printf 'docker-entrypoint.sh: error: %s\n' "$*" >&2
	exit 1
}

# file_env VAR [DEFAULT]: exports VAR from $VAR, else from the file named by $VAR_FILE, else DEFAULT.
file_env() {
	local var=$1 default=${2:-} file_var="${1}_FILE"
	if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
		die "both $var and $file_var are set, but they are exclusive"
	fi
	local value=$default
	if [[ -n ${!var:-} ]]; then
		value=${!var}
	elif [[ -n ${!file_var:-} ]]; then
		value=$(<"${!file_var}")
	fi
	export "$var=$value"
	unset "$file_var"
}

psql_as_superuser() {
	psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"
}

# run_initdb HOST_AUTH_METHOD [INITDB_ARGUMENTS...]
run_initdb() {
	local auth_method=$1 extra_args
	shift
	read -ra extra_args <<<"${POSTGRES_INITDB_ARGS:-}"
	# Local (socket) connections are trusted so that initialisation needs no password.
	initdb --username="$POSTGRES_USER" --auth-local=trust --auth-host="$auth_method" \
		"${extra_args[@]}" "$@" --pgdata="$PGDATA"
}

initialise_pgdata() {
	local auth_method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	if [[ -z $POSTGRES_PASSWORD && $auth_method != trust ]]; then
		cat >&2 <<-'EOF'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOF
		exit 1
	fi

	if [[ -n $POSTGRES_PASSWORD ]]; then
		run_initdb "$auth_method" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
	else
		run_initdb "$auth_method"
	fi
	printf '\nhost all all all %s\n' "$auth_method" >>"$PGDATA/pg_hba.conf"

	# A temporary server on the unix socket only, so nobody connects before initialisation is done.
	pg_ctl --pgdata="$PGDATA" --wait --options="-c listen_addresses='' -p 5432" start
	if [[ $POSTGRES_DB != postgres ]]; then
		psql_as_superuser --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db";
		EOSQL
	fi
	local script
	for script in /docker-entrypoint-initdb.d/*; do
		case $script in
		*.sh)
			echo "docker-entrypoint.sh: running $script"
			# shellcheck source=/dev/null
			if [[ -x $script ]]; then "$script"; else . "$script"; fi
			;;
		*.sql)
			echo "docker-entrypoint.sh: running $script"
			psql_as_superuser --dbname "$POSTGRES_DB" --file "$script"
			;;
		*.sql.gz)
			echo "docker-entrypoint.sh: running $script"
			gunzip --stdout "$script" | psql_as_superuser --dbname "$POSTGRES_DB"
			;;
		*) echo "docker-entrypoint.sh: ignoring $script" ;;
		esac
	done
	pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop
	echo
	echo 'PostgreSQL init process complete; ready for start up.'
	echo
}

if [[ ${1:-} == -* ]]; then
	set -- postgres "$@"
fi
if [[ ${1:-} != postgres ]]; then
	exec "$@" # e.g. `docker run ... bash` or psql
fi

if [[ $(id -u) == 0 ]]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	chmod 0700 "$PGDATA"
	chown postgres:postgres /var/run/postgresql
	chmod 3777 /var/run/postgresql
	# Start again as the postgres user (what gosu does in the official image).
	export HOME=/var/lib/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS

if [[ ! -s $PGDATA/PG_VERSION ]]; then
	initialise_pgdata
else
	echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
fi
unset POSTGRES_PASSWORD
exec "$@"
