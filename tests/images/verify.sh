#!/usr/bin/env bash
#
# Proves that the stand-in images work, by running them; `build.sh --verify` builds them first and
# then runs this. Every container and volume created here carries the label $RUN_LABEL and is
# removed on exit, whatever happens. Progress and measurements go to stderr.
#   python    python -m venv + pip --version
#   postgres  SELECT 1 over TCP from the host with the password (psql); initdb.d scripts; wrong
#             passwords refused; pg_isready and psql inside; server is PID 1 and not root; data
#             in a named volume survives `docker rm -f` and a new container
#   mongo     from the host with pymongo (in a temporary venv): SCRAM authentication, ping,
#             insert, find, count; data in a named volume survives recreation; mongosh ping inside
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

readonly PYTHON_IMAGE=labforge-test/python:3.11
readonly POSTGRES_IMAGE=labforge-test/postgres:15
readonly MONGO_IMAGE=labforge-test/mongo:nx
readonly RUN_ID="labforge-verify-$$"
readonly RUN_LABEL="org.labforge.test.verify=$RUN_ID"
readonly READY_TIMEOUT_S=30
readonly PASSWORD=verify-s3cret

say() { printf 'verify: %s\n' "$*" >&2; }
fail() {
	say "FAILED: $*"
	exit 1
}

WORK=$(mktemp -d "/tmp/$RUN_ID.XXXXXX")
cleanup() {
	local containers volumes
	mapfile -t containers < <(docker ps -aq --filter "label=$RUN_LABEL")
	((${#containers[@]} == 0)) || docker rm -f "${containers[@]}" >/dev/null
	mapfile -t volumes < <(docker volume ls -q --filter "label=$RUN_LABEL")
	((${#volumes[@]} == 0)) || docker volume rm "${volumes[@]}" >/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

seconds_since() {
	local us=$((${EPOCHREALTIME/./} - ${1/./}))
	printf '%d.%d s' $((us / 1000000)) $((us % 1000000 / 100000))
}

expect_equal() {
	local what=$1 expected=$2 actual=$3
	[[ $actual == "$expected" ]] || fail "$what: expected '$expected', got '$actual'"
}

# The host port published for PORT/tcp of CONTAINER.
host_port() {
	local address
	address=$(docker port "$1" "$2/tcp" | head -n 1)
	echo "${address##*:}"
}

running() { [[ $(docker inspect --format '{{.State.Running}}' "$1") == true ]]; }

# wait_until CONTAINER WHAT COMMAND...: runs COMMAND every 100 ms until it succeeds; fails if
# CONTAINER stops or after READY_TIMEOUT_S.
wait_until() {
	local container=$1 what=$2
	shift 2
	local deadline=$((${EPOCHREALTIME/./} + READY_TIMEOUT_S * 1000000))
	until "$@" >/dev/null 2>&1; do
		if ! running "$container"; then
			docker logs --tail 20 "$container" >&2
			fail "$what: container $container exited"
		fi
		if ((${EPOCHREALTIME/./} > deadline)); then
			docker logs --tail 20 "$container" >&2
			fail "$what: not ready within $READY_TIMEOUT_S s"
		fi
		sleep 0.1
	done
}

# stop_container NAME WHAT: docker stop, timed; the main process must exit with status 0.
stop_container() {
	local name=$1 what=$2 start=$EPOCHREALTIME
	docker stop "$name" >/dev/null
	say "$what: docker stop took $(seconds_since "$start")"
	expect_equal "$what: exit status after docker stop" 0 "$(docker inspect --format '{{.State.ExitCode}}' "$name")"
}

# --- python --------------------------------------------------------------------------------------

verify_python() {
	local output
	output=$(docker run --rm --label "$RUN_LABEL" "$PYTHON_IMAGE" \
		sh -c 'python -m venv /opt/venv && /opt/venv/bin/pip --version && python --version') ||
		fail "python: venv + pip failed: $output"
	[[ $output == *"pip "*"/opt/venv/"* && $output == *"Python 3.11"* ]] || fail "python: unexpected output: $output"
	say "python: venv + pip work ($(tail -n 1 <<<"$output"), $(head -n 1 <<<"$output" | cut -d' ' -f1-2))"
}

# --- postgres ------------------------------------------------------------------------------------

# pg_query PORT PASSWORD SQL: runs SQL as labforge on database app over TCP, with the host's psql.
pg_query() {
	PGPASSWORD=$2 PGCONNECT_TIMEOUT=2 psql --no-psqlrc --tuples-only --no-align \
		--host=127.0.0.1 --port="$1" --username=labforge --dbname=app --command="$3"
}

start_postgres() {
	local name=$1 volume=$2 password=$3
	docker run --detach --label "$RUN_LABEL" --name "$name" --publish 127.0.0.1::5432 \
		--env POSTGRES_USER=labforge --env POSTGRES_PASSWORD="$password" --env POSTGRES_DB=app \
		--volume "$volume:/var/lib/postgresql/data" \
		--volume "$WORK/initdb:/docker-entrypoint-initdb.d:ro" "$POSTGRES_IMAGE" >/dev/null
}

verify_postgres() {
	command -v psql >/dev/null || fail "postgres: the host has no psql client"
	local output
	if output=$(docker run --rm --label "$RUN_LABEL" "$POSTGRES_IMAGE" 2>&1); then
		fail "postgres: started without POSTGRES_PASSWORD"
	fi
	[[ $output == *"superuser password is not specified"* ]] || fail "postgres: unexpected error without a password: $output"

	mkdir -m 0755 "$WORK/initdb"
	cat >"$WORK/initdb/01-seed.sql" <<-'EOF'
		CREATE TABLE seeded (note text);
		INSERT INTO seeded VALUES ('from docker-entrypoint-initdb.d');
	EOF
	chmod 0644 "$WORK/initdb/01-seed.sql"
	local volume="$RUN_ID-pgdata" first="$RUN_ID-postgres-1" second="$RUN_ID-postgres-2" port start
	docker volume create --label "$RUN_LABEL" "$volume" >/dev/null

	start=$EPOCHREALTIME
	start_postgres "$first" "$volume" "$PASSWORD"
	port=$(host_port "$first" 5432)
	wait_until "$first" "postgres" pg_query "$port" "$PASSWORD" 'SELECT 1'
	say "postgres: SELECT 1 over TCP (127.0.0.1:$port) $(seconds_since "$start") after docker run, on a new volume"

	expect_equal "postgres: user, database" "labforge app" "$(pg_query "$port" "$PASSWORD" "SELECT current_user || ' ' || current_database()")"
	expect_equal "postgres: initdb.d seed" "from docker-entrypoint-initdb.d" "$(pg_query "$port" "$PASSWORD" 'SELECT note FROM seeded')"
	if output=$(pg_query "$port" wrong-password 'SELECT 1' 2>&1); then
		fail "postgres: a wrong password was accepted"
	fi
	[[ $output == *"password authentication failed"* ]] || fail "postgres: unexpected error for a wrong password: $output"
	docker exec "$first" pg_isready --username=labforge --dbname=app >/dev/null || fail "postgres: pg_isready inside failed"
	expect_equal "postgres: psql inside" 1 "$(docker exec "$first" psql --username=labforge --dbname=app -Atc 'SELECT 1')"
	expect_equal "postgres: PID 1 and its user" "postgres postgres" \
		"$(docker exec "$first" sh -c 'echo "$(cat /proc/1/comm) $(stat -c %U /proc/1)"')"
	pg_query "$port" "$PASSWORD" "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('survived')" >/dev/null
	stop_container "$first" postgres
	docker rm --force "$first" >/dev/null

	# A new container on the same volume reuses the data; its POSTGRES_PASSWORD is then ignored.
	start=$EPOCHREALTIME
	start_postgres "$second" "$volume" ignored-password
	port=$(host_port "$second" 5432)
	wait_until "$second" "postgres (recreated)" pg_query "$port" "$PASSWORD" 'SELECT 1'
	say "postgres: SELECT 1 over TCP $(seconds_since "$start") after docker run, on the existing volume"
	expect_equal "postgres: data after recreation" survived "$(pg_query "$port" "$PASSWORD" 'SELECT note FROM kept')"
	say "postgres: password auth, initdb.d, pg_isready/psql inside, non-root PID 1 and persistence work"
}

# --- mongo ---------------------------------------------------------------------------------------

start_mongo() {
	local name=$1 volume=$2
	docker run --detach --label "$RUN_LABEL" --name "$name" --publish 127.0.0.1::27017 \
		--env MONGO_INITDB_ROOT_USERNAME=root --env MONGO_INITDB_ROOT_PASSWORD="$PASSWORD" \
		--volume "$volume:/data/db" "$MONGO_IMAGE" >/dev/null
}

verify_mongo() {
	local pymongo_version
	pymongo_version=$(sed -n 's/^pymongo==//p' mongo/requirements.txt)
	python3 -m venv "$WORK/venv"
	"$WORK/venv/bin/pip" install --quiet "pymongo==$pymongo_version" ||
		fail "mongo: could not install pymongo into a temporary venv"
	local check=("$WORK/venv/bin/python" verify_mongo.py)

	local output
	if output=$(docker run --rm --label "$RUN_LABEL" --env MONGO_INITDB_ROOT_USERNAME=root "$MONGO_IMAGE" 2>&1); then
		fail "mongo: started with a root user but no password"
	fi
	[[ $output == *"must be specified"* ]] || fail "mongo: unexpected error without a password: $output"

	local volume="$RUN_ID-mongodata" first="$RUN_ID-mongo-1" second="$RUN_ID-mongo-2" port start seconds
	docker volume create --label "$RUN_LABEL" "$volume" >/dev/null

	start=$EPOCHREALTIME
	start_mongo "$first" "$volume"
	port=$(host_port "$first" 27017)
	seconds=$("${check[@]}" wait "$port" root "$PASSWORD" "$start") || fail "mongo: no ping; logs: $(docker logs --tail 20 "$first" 2>&1)"
	say "mongo: authenticated ping (127.0.0.1:$port) $seconds s after docker run, on a new volume"
	"${check[@]}" write "$port" root "$PASSWORD" || fail "mongo: checks failed"
	expect_equal "mongo: mongosh ping inside" "{ ok: 1 }" \
		"$(docker exec "$first" mongosh --quiet --eval "db.adminCommand('ping')")"
	stop_container "$first" mongo
	docker rm --force "$first" >/dev/null

	start=$EPOCHREALTIME
	start_mongo "$second" "$volume"
	port=$(host_port "$second" 27017)
	seconds=$("${check[@]}" wait "$port" root "$PASSWORD" "$start") || fail "mongo (recreated): no ping"
	say "mongo: authenticated ping $seconds s after docker run, on the existing volume"
	"${check[@]}" read "$port" root "$PASSWORD" || fail "mongo: data did not survive recreation"

	# Without MONGO_INITDB_ROOT_* there is no authentication, as with the official image.
	local open="$RUN_ID-mongo-open"
	docker run --detach --label "$RUN_LABEL" --name "$open" --publish 127.0.0.1::27017 "$MONGO_IMAGE" >/dev/null
	port=$(host_port "$open" 27017)
	"${check[@]}" wait "$port" - - "$EPOCHREALTIME" >/dev/null || fail "mongo (no root user): no ping"
	"${check[@]}" crud "$port" || fail "mongo: checks without authentication failed"
	docker rm --force --volumes "$open" >/dev/null
	say "mongo: SCRAM auth (right/wrong password, unauthenticated), insert/find/count, mongosh ping, persistence and no-auth mode work"
}

main() {
	local image
	for image in "$PYTHON_IMAGE" "$POSTGRES_IMAGE" "$MONGO_IMAGE"; do
		docker image inspect "$image" >/dev/null 2>&1 || fail "$image does not exist; run build.sh first"
	done
	local start=$EPOCHREALTIME
	verify_python
	verify_postgres
	verify_mongo
	for image in "$PYTHON_IMAGE" "$POSTGRES_IMAGE" "$MONGO_IMAGE"; do
		say "$image: $(($(docker image inspect --format '{{.Size}}' "$image") / 1000000)) MB"
	done
	say "all checks passed in $(seconds_since "$start")"
}

main "$@"
