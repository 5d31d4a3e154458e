# Shared by the benchmark scripts (source it from the repository root): the stand-in images, the
# binary under test as $bin (LABFORGE_BIN, else a release build of this tree), and the image
# overrides and CA bundle every run uses.
bash tests/images/build.sh
if [ -n "${LABFORGE_BIN:-}" ]; then
    bin=$(realpath "$LABFORGE_BIN")
else
    cargo build --release --quiet
    bin="$PWD/target/release/labforge"
fi
export NO_COLOR=1
export LABFORGE_IMAGE_POSTGRES=labforge-test/postgres:15 LABFORGE_IMAGE_MONGO=labforge-test/mongo:nx LABFORGE_IMAGE_PYTHON=labforge-test/python:3.11
export PIP_CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
