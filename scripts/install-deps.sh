#!/bin/sh
# Install the Debian/Ubuntu packages persona-eval needs to build and test,
# only those missing. Runs apt-get as root, or through sudo.
#   scripts/install-deps.sh            build, run and test dependencies
#   scripts/install-deps.sh --dry-run  only say what is missing
set -eu

# The second line is for the tests only (tests/e2e/slurm.sh starts a one-node
# Slurm; tests/e2e/k8s.sh reads the Kubernetes manifest with python3-yaml).
PKGS="gcc make pkg-config libc6-dev libcurl4-openssl-dev libssl-dev libcjson-dev libopenblas-dev
check python3 python3-numpy kiwix-tools zim-tools ca-certificates chromium curl shellcheck
slurm-wlm munge python3-yaml"

dry=0
[ "${1:-}" = "--dry-run" ] && dry=1

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: this script needs a Debian or Ubuntu system (dpkg and apt-get)." >&2
    echo "install-deps: install by hand: $PKGS" | tr '\n' ' ' >&2
    echo >&2
    exit 1
fi

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing:$missing"
[ "$dry" -eq 1 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
