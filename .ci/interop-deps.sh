#!/usr/bin/env bash
# Installs what the differential tests in interop/ need beyond Go:
#   - PyJWT and cryptography for the system Python (Debian packages
#     python3-jwt and python3-cryptography; the tests run /usr/bin/python3),
#   - Node's jose and oauth4webapi packages, pinned in
#     interop/node/package-lock.json, into interop/node/node_modules (npm ci).
# Node.js 20 or later and npm must already be on PATH.
#
# Idempotent and patient: apt-get runs only when a package is missing, npm ci only when
# the installed jose or oauth4webapi differs from the lock. Quiet on success; on failure it
# prints what went wrong and exits non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
	echo "interop-deps: $*" >&2
	if [ -s "$log" ]; then
		cat "$log" >&2
	fi
	exit 1
}

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: cannot install Debian packages"
	sudo=sudo
fi

# apt_get: apt-get, waiting for the package manager's locks.
source .ci/apt.sh

# ---- PyJWT for /usr/bin/python3 ----
apt_packages=(python3-jwt python3-cryptography)
missing=()
for p in "${apt_packages[@]}"; do
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt_get update || fail "apt-get update failed"
	apt_get install -y --no-install-recommends "${missing[@]}" ||
		fail "apt-get install ${missing[*]} failed"
fi
/usr/bin/python3 interop/python/pyjwt_tool.py --probe >"$log" 2>&1 ||
	fail "PyJWT is still not usable from /usr/bin/python3"

# ---- jose and oauth4webapi for node ----
command -v node >/dev/null 2>&1 || fail "node is not on PATH: install Node.js 20 or later"
command -v npm >/dev/null 2>&1 || fail "npm is not on PATH: install it with Node.js 20 or later"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "node $(node --version) is too old: jose needs Node.js 20 or later"

stale=
for pkg in jose oauth4webapi; do
	want=$(node -p "require('./interop/node/package-lock.json').packages['node_modules/$pkg'].version")
	have=$(node -p "require('./interop/node/node_modules/$pkg/package.json').version" 2>/dev/null || true)
	if [ "$want" != "$have" ]; then
		stale=1
	fi
done
if [ -n "$stale" ]; then
	npm ci --prefix interop/node --no-audit --no-fund --loglevel=error >"$log" 2>&1 ||
		fail "npm ci --prefix interop/node failed"
fi
node interop/node/jose_tool.mjs --probe >"$log" 2>&1 ||
	fail "jose is still not usable (node interop/node/jose_tool.mjs --probe)"
node interop/node/oauth_client.mjs --probe >"$log" 2>&1 ||
	fail "oauth4webapi is still not usable (node interop/node/oauth_client.mjs --probe)"
