#!/usr/bin/env bash
# Installs what the browser test in cmd/jwtgate/internal/browsertest needs beyond Go:
#   - Chromium from Debian (package chromium, /usr/bin/chromium),
#   - playwright-core and axe-core (the accessibility scan injected into each
#     page), pinned in cmd/jwtgate/internal/browsertest/node/package-lock.json,
#     into cmd/jwtgate/internal/browsertest/node/node_modules (npm ci). playwright-core
#     downloads no browser; the test drives Debian's Chromium.
# Node.js 20 or later and npm must already be on PATH.
#
# Idempotent and patient: apt-get (update and install) runs only when Chromium is
# missing, npm ci only when an installed package (playwright-core, axe-core)
# differs from the lock. Quiet on success; on failure it prints what went wrong and exits
# non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

node_dir=cmd/jwtgate/internal/browsertest/node

log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
	echo "browser-deps: $*" >&2
	if [ -s "$log" ]; then
		cat "$log" >&2
	fi
	exit 1
}

# apt_get: apt-get, waiting for the package manager's locks.
source .ci/apt.sh

# ---- Chromium ----
if [ "$(dpkg-query -W -f='${Status}' chromium 2>/dev/null)" != "install ok installed" ] || [ ! -x /usr/bin/chromium ]; then
	sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: cannot install the chromium package"
		sudo=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt_get update || fail "apt-get update failed"
	apt_get install -y chromium || fail "apt-get install chromium failed"
fi
/usr/bin/chromium --version >"$log" 2>&1 || fail "/usr/bin/chromium --version failed"

# ---- playwright-core, axe-core ----
command -v node >/dev/null 2>&1 || fail "node is not on PATH: install Node.js 20 or later"
command -v npm >/dev/null 2>&1 || fail "npm is not on PATH: install it with Node.js 20 or later"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "node $(node --version) is too old: playwright-core needs Node.js 20 or later"

stale=
for pkg in playwright-core axe-core; do
	want=$(node -p "require('./$node_dir/package-lock.json').packages['node_modules/$pkg'].version")
	have=$(node -p "require('./$node_dir/node_modules/$pkg/package.json').version" 2>/dev/null || true)
	[ "$want" = "$have" ] || stale=1
done
if [ -n "$stale" ]; then
	npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >"$log" 2>&1 ||
		fail "npm ci --prefix $node_dir failed"
fi
(cd "$node_dir" && node --input-type=module -e "import { chromium } from 'playwright-core'; if (typeof chromium.launchPersistentContext !== 'function') process.exit(1);") >"$log" 2>&1 ||
	fail "playwright-core is still not usable from $node_dir"
(cd "$node_dir" && node -e "if (typeof require('axe-core').run !== 'function') process.exit(1);") >"$log" 2>&1 ||
	fail "axe-core is still not usable from $node_dir"
