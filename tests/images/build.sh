#!/usr/bin/env bash
#
# Builds the local stand-in images labforge's tests run instead of registry images (the development
# and CI machines have no container registry): labforge-test/python:3.11, labforge-test/postgres:15
# and labforge-test/mongo:nx. See README.md.
#
#   build.sh            make sure the images exist; a no-op (well under a second) when they do
#   build.sh --verify   the same, then prove they work by running containers (verify.sh)
#
# Every image is tagged <alias>-<definition hash> and <alias>. The hash covers everything that
# defines the image: its section of this script, the files in its directory (package list,
# entrypoint, ...) and, for mongo, the python image it is built on. An image whose hashed tag
# exists is left alone, so changing a definition is all it takes to get it rebuilt.
#
# Caches: the images themselves; under $CACHE_DIR downloaded .debs, rootfs tarballs and the saved
# mongo image, so that after `docker rmi` an image comes back with a `docker load` of seconds.
# Runs are serialised with flock, so concurrent callers (test harness, .ci/run) are safe.
# Prints progress lines to stderr and nothing to stdout.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
readonly HERE=$PWD

readonly SUITE=bookworm
readonly CACHE_DIR="${XDG_CACHE_HOME:-${HOME:?HOME must be set}/.cache}/labforge-test"
readonly HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
readonly DEFINITION_LABEL=org.labforge.test.definition

readonly PYTHON_IMAGE=labforge-test/python:3.11
readonly POSTGRES_IMAGE=labforge-test/postgres:15
readonly MONGO_IMAGE=labforge-test/mongo:nx

say() { printf 'test images: %s\n' "$*" >&2; }
die() {
	say "ERROR: $*"
	exit 1
}

# Wall-clock seconds since a start taken from $EPOCHREALTIME, e.g. "41.3 s".
seconds_since() {
	local us=$((${EPOCHREALTIME/./} - ${1/./}))
	printf '%d.%d s' $((us / 1000000)) $((us % 1000000 / 100000))
}

TEMP_DIRS=()
# Removes a work directory, first unmounting anything a failed debootstrap left mounted in it.
remove_tree() {
	local dir=$1 mount_point
	[[ -e $dir ]] || return 0
	while read -r mount_point; do
		umount -l "$mount_point" || true
	done < <(awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r)
	rm -rf --one-file-system -- "$dir"
}
cleanup() {
	local dir
	for dir in "${TEMP_DIRS[@]}"; do remove_tree "$dir"; done
}
trap cleanup EXIT

new_work_dir() {
	mkdir -p "$CACHE_DIR/work"
	mktemp -d "$CACHE_DIR/work/$1.XXXXXX"
}

definition_hash() { sha256sum | cut -c1-12; }

# Prints name, mode and content of the files of an image's directory (part of its definition;
# hidden files and Python bytecode excluded).
image_files() {
	local file
	while IFS= read -r file; do
		printf '== %s %s\n' "$file" "$(stat -c %a "$file")"
		cat -- "$file"
	done < <(find "$1" -type f ! -name '*.pyc' ! -path '*/.*' | LC_ALL=C sort)
}

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# Points ALIAS at REF unless it already does.
ensure_alias() {
	local ref=$1 alias=$2
	[[ "$(image_id "$alias" || true)" == "$(image_id "$ref")" ]] || docker tag "$ref" "$alias"
}

# Removes the hashed tags of ALIAS other than CURRENT (earlier definitions).
prune_outdated_tags() {
	local alias=$1 current=$2 ref
	while IFS= read -r ref; do
		[[ $ref == "$alias-"* && $ref != "$current" ]] || continue
		if docker rmi "$ref" >/dev/null 2>&1; then
			say "removed outdated $ref"
		else
			say "kept outdated $ref (still in use)"
		fi
	done < <(docker image ls --format '{{.Repository}}:{{.Tag}}' "${alias%:*}")
}

# --- Debian root filesystems ---------------------------------------------------------------------

# The first Debian mirror APT is configured with for $SUITE (deb822 *.sources or one-line *.list).
# APT's own configuration is the only source: a machine behind a proxy or on a private mirror has
# nothing else it can reach.
debian_mirror() {
	local deb822=() one_line=() file mirror
	for file in /etc/apt/sources.list.d/*.sources; do
		[[ -f $file ]] && deb822+=("$file")
	done
	for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $file ]] && one_line+=("$file")
	done
	mirror=$(
		{
			awk -v suite="$SUITE" '
				BEGIN { RS = ""; FS = "\n" }   # one deb822 paragraph per record
				{
					types = uris = suites = enabled = ""
					for (i = 1; i <= NF; i++) {
						if ($i ~ /^#/ || index($i, ":") == 0) continue
						field = substr($i, 1, index($i, ":") - 1)
						value = substr($i, index($i, ":") + 1); gsub(/^[ \t]+|[ \t]+$/, "", value)
						if (field == "Types") types = " " value " "
						else if (field == "URIs") uris = value
						else if (field == "Suites") suites = " " value " "
						else if (field == "Enabled") enabled = value
					}
					if (types ~ / deb / && index(suites, " " suite " ") && enabled != "no") {
						split(uris, first, /[ \t]+/); print first[1]
					}
				}' "${deb822[@]}" /dev/null
			awk -v suite="$SUITE" '
				$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
					if ($(i + 1) == suite) print $i
				}' "${one_line[@]}" /dev/null
		} | grep -E '^https?://' | head -n 1
	) || true
	[[ -n $mirror ]] || die "APT has no Debian mirror for $SUITE (looked in /etc/apt/sources.list and /etc/apt/sources.list.d): add one, e.g. a deb822 entry with Suites: $SUITE"
	printf '%s\n' "$mirror"
}

require_debootstrap() {
	command -v debootstrap >/dev/null && return 0
	local log="$CACHE_DIR/logs/apt-get.log"
	say "installing debootstrap with apt-get (log: $log)"
	export DEBIAN_FRONTEND=noninteractive
	local install=(apt-get install -y -q --no-install-recommends debootstrap)
	"${install[@]}" >"$log" 2>&1 && return
	# Stale package lists are the usual cause; refresh them once.
	if ! { apt-get update -q && "${install[@]}"; } >>"$log" 2>&1; then
		die "could not install debootstrap with apt-get; see $log"
	fi
}

# Shrinks a fresh rootfs: package caches, documentation and message translations are not
# needed in test images.
trim_rootfs() {
	local rootfs=$1
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
		"$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
		"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
	find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
	# debootstrap copied the host's resolver configuration; Docker provides one to containers.
	: >"$rootfs/etc/resolv.conf"
}

# build_rootfs NAME TARBALL: debootstraps $SUITE minbase with NAME/packages.txt, applies
# NAME_rootfs_setup and writes the result to TARBALL.
build_rootfs() {
	local name=$1 tarball=$2
	[[ $EUID -eq 0 ]] || die "building the $name rootfs needs root (debootstrap, chroot)"
	mkdir -p "$CACHE_DIR/logs" "$CACHE_DIR/debs" "$CACHE_DIR/rootfs"
	require_debootstrap

	local mirror packages work log="$CACHE_DIR/logs/debootstrap-$name.log" start=$EPOCHREALTIME
	mirror=$(debian_mirror)
	packages=$(grep -Ev '^[[:space:]]*(#|$)' "$name/packages.txt" | paste -sd, -)
	work=$(new_work_dir "rootfs-$name")
	TEMP_DIRS+=("$work")
	local args=(--variant=minbase --include="$packages" --cache-dir="$CACHE_DIR/debs")
	if [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
		args+=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
	fi

	say "$name: debootstrap $SUITE minbase + $packages from $mirror (log: $log)"
	if ! debootstrap "${args[@]}" "$SUITE" "$work/rootfs" "$mirror" >"$log" 2>&1; then
		tail -n 5 "$log" | sed 's/^/    /' >&2
		die "$name: debootstrap failed; full log: $log"
	fi
	trim_rootfs "$work/rootfs"
	"${name}_rootfs_setup" "$work/rootfs"

	tar --numeric-owner -C "$work/rootfs" --exclude='./dev/*' --exclude='./proc/*' \
		--exclude='./sys/*' -cf "$work/rootfs.tar" .
	find "$CACHE_DIR/rootfs" -name "$name-*" -delete
	sha256sum <"$work/rootfs.tar" | cut -d' ' -f1 >"$tarball.sha256"
	mv "$work/rootfs.tar" "$tarball"
	remove_tree "$work"
	say "$name: rootfs built in $(seconds_since "$start") ($(du -m "$tarball" | cut -f1) MB tarball)"
}

# What defines the rootfs of image NAME (the tarball cache key).
rootfs_definition() {
	local name=$1
	declare -p SUITE
	declare -f trim_rootfs build_rootfs "${name}_rootfs_setup"
	cat "$name/packages.txt"
}

# load_rootfs_image NAME REF HASH TARBALL: loads image REF, made of two layers: TARBALL and the
# files listed by NAME_image_files (kept out of the rootfs so that changing them costs seconds,
# not a debootstrap), with the container configuration printed by NAME_image_config (JSON members
# of an image config's "config": Env, Cmd, StopSignal, ...).
# Assembling the archive for `docker load` ourselves takes one step and no container, where
# `docker import --change` cannot set StopSignal and every instruction of a `docker build` costs
# seconds on fuse-overlayfs.
load_rootfs_image() {
	local name=$1 ref=$2 hash=$3 tarball=$4 work source target mode
	work=$(new_work_dir "load-$name")
	TEMP_DIRS+=("$work")
	ln "$tarball" "$work/rootfs.tar"
	mkdir "$work/files"
	while read -r source target mode; do
		install -D -m "$mode" "$name/$source" "$work/files/$target"
	done < <("${name}_image_files")
	tar --numeric-owner --owner=0 --group=0 -C "$work/files" -cf "$work/files.tar" .

	local arch created rootfs_diff_id files_diff_id
	arch=$(docker version --format '{{.Server.Arch}}')
	created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	rootfs_diff_id=$(<"$tarball.sha256")
	files_diff_id=$(sha256sum <"$work/files.tar" | cut -d' ' -f1)
	cat >"$work/config.json" <<-EOF
		{
		"architecture": "$arch", "os": "linux", "created": "$created",
		"config": {
		$("${name}_image_config"),
		"Labels": {"$DEFINITION_LABEL": "$hash"}
		},
		"rootfs": {"type": "layers", "diff_ids": ["sha256:$rootfs_diff_id", "sha256:$files_diff_id"]},
		"history": [
		  {"created": "$created", "created_by": "tests/images/build.sh: debootstrap $SUITE + $name/packages.txt"},
		  {"created": "$created", "created_by": "tests/images/build.sh: ${name}_image_files"}
		]
		}
	EOF
	cat >"$work/manifest.json" <<-EOF
		[{"Config": "config.json", "RepoTags": ["$ref"], "Layers": ["rootfs.tar", "files.tar"]}]
	EOF
	tar -C "$work" -cf - manifest.json config.json rootfs.tar files.tar | docker load --quiet >/dev/null ||
		die "$name: docker load failed (configuration: $work/config.json)"
	remove_tree "$work"
}

# ensure_rootfs_image NAME ALIAS: the image defined by NAME/ and the NAME_* functions.
# Sets REF to its hashed reference.
ensure_rootfs_image() {
	local name=$1 alias=$2 rootfs_hash image_hash
	rootfs_hash=$(rootfs_definition "$name" | definition_hash)
	image_hash=$({
		echo "rootfs $rootfs_hash"
		declare -f ensure_rootfs_image load_rootfs_image "${name}_image_files" "${name}_image_config"
		image_files "$name"
	} | definition_hash)
	local ref="$alias-$image_hash"
	REF=$ref

	if image_id "$ref" >/dev/null; then
		ensure_alias "$ref" "$alias"
		say "$alias is up to date ($ref)"
		return
	fi

	local tarball="$CACHE_DIR/rootfs/$name-$rootfs_hash.tar" start
	[[ -f $tarball && -f $tarball.sha256 ]] || build_rootfs "$name" "$tarball"
	start=$EPOCHREALTIME
	load_rootfs_image "$name" "$ref" "$image_hash" "$tarball"
	docker tag "$ref" "$alias"
	say "$alias: loaded $ref in $(seconds_since "$start")"
	prune_outdated_tags "$alias" "$ref"
}

# --- labforge-test/python:3.11 -------------------------------------------------------------------
# Debian's python3 (3.11), pip, venv and CA certificates. Deliberately without the CA of any
# TLS-intercepting proxy: labforge itself adds extra CA certificates to the builds that need them.

python_rootfs_setup() {
	local rootfs=$1
	# Like the official python image, allow pip to install into the system interpreter
	# (Debian marks it externally managed, PEP 668).
	rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
}

python_image_files() { :; }

python_image_config() {
	cat <<'EOF'
"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
"WorkingDir": "/",
"Cmd": ["python3"]
EOF
}

# --- labforge-test/postgres:15 -------------------------------------------------------------------
# Debian's postgresql-15 behind an entrypoint honouring the official postgres image's contract
# (postgres/docker-entrypoint.sh).

postgres_rootfs_setup() {
	local rootfs=$1
	# postgresql-common's postinst created a default cluster; the entrypoint makes its own in PGDATA.
	rm -rf "$rootfs"/etc/postgresql/15 "$rootfs"/var/lib/postgresql/15 "$rootfs"/var/log/postgresql/*
	# Without its provider library PostgreSQL silently runs without JIT compilation, which only
	# matters for performance; LLVM is a third of the image.
	rm -rf "$rootfs"/usr/lib/postgresql/15/lib/llvmjit* "$rootfs"/usr/lib/postgresql/15/lib/bitcode \
		"$rootfs"/usr/lib/x86_64-linux-gnu/libLLVM-14.so* "$rootfs"/usr/lib/x86_64-linux-gnu/libz3.so*
	# As in the official image: clusters made by initdb listen on all addresses.
	local sample="$rootfs/usr/share/postgresql/15/postgresql.conf.sample"
	sed -ri "s/^#?(listen_addresses)[[:space:]]*=[[:space:]]*[^[:space:]]+.*/\1 = '*'/" "$sample"
	grep -q "^listen_addresses = '\*'" "$sample" || die "postgres: could not set listen_addresses in $sample"
	# The official image's locale.
	chroot "$rootfs" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
	install -d -m 0755 "$rootfs/docker-entrypoint-initdb.d"
	chroot "$rootfs" install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
	chroot "$rootfs" install -d -o postgres -g postgres -m 3777 /var/run/postgresql
}

# Lines "SOURCE (in postgres/) TARGET (in the image) MODE".
postgres_image_files() {
	echo "docker-entrypoint.sh usr/local/bin/docker-entrypoint.sh 0755"
}

postgres_image_config() {
	cat <<'EOF'
"Env": [
  "PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "LANG=en_US.utf8", "PG_MAJOR=15", "PGDATA=/var/lib/postgresql/data"
],
"WorkingDir": "/",
"Volumes": {"/var/lib/postgresql/data": {}},
"ExposedPorts": {"5432/tcp": {}},
"StopSignal": "SIGINT",
"Entrypoint": ["docker-entrypoint.sh"],
"Cmd": ["postgres"]
EOF
}

# --- labforge-test/mongo:nx ----------------------------------------------------------------------
# nx-27017 (PyPI), a MongoDB wire-protocol server on SQLite, since mongod cannot be obtained here.
# Built FROM the python image with mongo/Dockerfile: pip runs in a builder stage that trusts the
# host's CA bundle (needed behind a TLS-intercepting proxy); the final image only gets the venv.
# The result is also saved under $CACHE_DIR/images, to come back with a `docker load` after a
# `docker rmi` instead of a build that downloads from PyPI.

# build_mongo_image BASE_REF REF HASH
build_mongo_image() {
	local base_ref=$1 ref=$2 hash=$3 context log="$CACHE_DIR/logs/docker-build-mongo.log"
	[[ -r $HOST_CA_BUNDLE ]] || die "mongo: cannot read the CA bundle $HOST_CA_BUNDLE (pip in the build needs it)"
	mkdir -p "$CACHE_DIR/logs"
	context=$(new_work_dir mongo-context)
	TEMP_DIRS+=("$context")
	cp -p mongo/* "$context/"
	cp "$HOST_CA_BUNDLE" "$context/build-ca.crt"

	say "mongo: docker build FROM $base_ref (log: $log)"
	if ! DOCKER_BUILDKIT=0 docker build --force-rm --build-arg "BASE_IMAGE=$base_ref" \
		--label "$DEFINITION_LABEL=$hash" --tag "$ref" "$context" >"$log" 2>&1; then
		tail -n 5 "$log" | sed 's/^/    /' >&2
		die "mongo: docker build failed; full log: $log"
	fi
	# The builder stage (the one holding the CA bundle) is not needed after the build.
	docker image prune --force --filter label=org.labforge.test.stage=mongo-builder >/dev/null
	remove_tree "$context"
}

# ensure_mongo_image BASE_REF
ensure_mongo_image() {
	local base_ref=$1 hash
	hash=$({
		echo "base $base_ref"
		declare -f ensure_mongo_image build_mongo_image
		image_files mongo
	} | definition_hash)
	local ref="$MONGO_IMAGE-$hash"

	if image_id "$ref" >/dev/null; then
		ensure_alias "$ref" "$MONGO_IMAGE"
		say "$MONGO_IMAGE is up to date ($ref)"
		return
	fi

	local archive="$CACHE_DIR/images/mongo-$hash.tar" start=$EPOCHREALTIME
	if [[ -f $archive ]] && docker load --quiet <"$archive" >/dev/null 2>&1; then
		say "$MONGO_IMAGE: loaded $ref from $archive in $(seconds_since "$start")"
	else
		build_mongo_image "$base_ref" "$ref" "$hash"
		say "$MONGO_IMAGE: built $ref in $(seconds_since "$start")"
		mkdir -p "$CACHE_DIR/images"
		find "$CACHE_DIR/images" -name 'mongo-*' -delete
		docker save "$ref" >"$archive.partial"
		mv "$archive.partial" "$archive"
	fi
	docker tag "$ref" "$MONGO_IMAGE"
	prune_outdated_tags "$MONGO_IMAGE" "$ref"
}

# -------------------------------------------------------------------------------------------------

usage() {
	sed -n '3,9s/^# \{0,1\}//p' "$HERE/build.sh" >&2
}

main() {
	local verify=false
	case "${1:-}" in
	'') ;;
	--verify) verify=true ;;
	-h | --help)
		usage
		return 0
		;;
	*) die "unknown argument '$1' (usage: build.sh [--verify])" ;;
	esac
	command -v docker >/dev/null || die "the docker CLI is not installed"
	docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1 ||
		die "cannot reach the Docker daemon (is it running, and may $(id -un) use it?)"

	mkdir -p "$CACHE_DIR"
	local lock_fd
	exec {lock_fd}>"$CACHE_DIR/build.lock"
	if ! flock --nonblock "$lock_fd"; then
		say "waiting for another build.sh run to finish"
		flock --timeout 1800 "$lock_fd" || die "gave up waiting for the lock on $CACHE_DIR/build.lock"
	fi

	local start=$EPOCHREALTIME python_ref
	ensure_rootfs_image python "$PYTHON_IMAGE"
	python_ref=$REF
	ensure_rootfs_image postgres "$POSTGRES_IMAGE"
	ensure_mongo_image "$python_ref"
	say "done in $(seconds_since "$start")"

	flock --unlock "$lock_fd"
	exec {lock_fd}>&-
	if $verify; then
		"$HERE/verify.sh"
	fi
}

main "$@"
