# shellcheck shell=bash
# Sourced by .ci/run. Installs the MDN HTTP Observatory scanner, pinned, for
# security/observatory_test.go, and exports HTTPMW_OBSERVATORY_DIR (the test
# skips only when that variable is unset). Needs node and npm (registry only).
#
# --ignore-scripts is required: the package's postinstall downloads the
# Chromium HSTS preload list and the IANA TLD list, and a dependency's fetches
# a CA bundle; offline, all of them fail. The empty preload list replaces what
# the postinstall would have written (the HSTS and redirection tests read it).
httpmw_observatory_install() {
	local version=1.4.8
	local dir="${HTTPMW_OBSERVATORY_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/httpmw/mdn-http-observatory-$version}"
	if ! mkdir -p "$dir" 2>/dev/null; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/httpmw-observatory.XXXXXX") || return 1
	fi
	local pkg="$dir/node_modules/@mdn/mdn-http-observatory"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "observatory.sh: node and npm are required for the Observatory test" >&2
		return 1
	fi
	if [ ! -f "$pkg/src/scan.js" ] ||
		[ "$(node -p "require('$pkg/package.json').version" 2>/dev/null)" != "$version" ]; then
		[ -f "$dir/package.json" ] || printf '{"private": true}\n' >"$dir/package.json"
		(cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
			"@mdn/mdn-http-observatory@$version") || return 1
	fi
	printf '{}\n' >"$pkg/conf/hsts-preload.json" || return 1
	export HTTPMW_OBSERVATORY_DIR="$dir"
	echo "observatory.sh: MDN HTTP Observatory $version in $HTTPMW_OBSERVATORY_DIR" >&2
}
if ! httpmw_observatory_install; then
	unset -f httpmw_observatory_install
	echo "observatory.sh: install failed" >&2
	return 1
fi
unset -f httpmw_observatory_install
