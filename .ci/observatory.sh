# shellcheck shell=bash
# Sourced by .ci/run. Installs the MDN HTTP Observatory scanner, pinned, for
# security/observatory_test.go, and exports HTTPMW_OBSERVATORY_DIR (the test
# skips only when that variable is unset). Needs node and npm (registry only).
#
# --ignore-scripts is required: the package's postinstall downloads the
# Chromium HSTS preload list and the IANA TLD list, and a dependency's fetches
# a CA bundle; offline, all of them fail. The empty preload list replaces what
# the postinstall would have written (the HSTS and redirection tests read it).
#
# The install is cached in $HTTPMW_OBSERVATORY_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/httpmw/mdn-http-observatory-VERSION), but
# nothing depends on what is there: a cache is used only if a previous install
# into it completed (the .complete marker is written last), otherwise it is
# wiped and reinstalled; if it cannot be written (no HOME, read-only), a fresh
# temporary directory is used. npm's own cache goes into the install
# directory too, so a broken ~/.npm does not matter. npm install is retried.
httpmw_observatory_install() {
	local version=1.4.8 name=@mdn/mdn-http-observatory
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "observatory.sh: node and npm are required for the Observatory test (security/observatory_test.go); install them (e.g. apt-get install nodejs npm)" >&2
		return 1
	fi

	local dir=${HTTPMW_OBSERVATORY_CACHE:-}
	if [ -z "$dir" ]; then
		local base=${XDG_CACHE_HOME:-${HOME:+$HOME/.cache}}
		[ -n "$base" ] && dir="$base/httpmw/mdn-http-observatory-$version"
	fi
	local pkg="$dir/node_modules/$name"
	if [ -z "$dir" ] || [ "$(cat "$dir/.complete" 2>/dev/null)" != "$version" ] || [ ! -f "$pkg/src/scan.js" ]; then
		if [ -z "$dir" ] || ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then
			dir=$(mktemp -d "${TMPDIR:-/tmp}/httpmw-observatory.XXXXXX") || return 1
		fi
		pkg="$dir/node_modules/$name"
		rm -rf "$dir/node_modules" "$dir/package-lock.json" "$dir/.complete" "$dir/.npm-cache"
		printf '{"private": true}\n' >"$dir/package.json" || return 1
		local attempt log="$dir/npm-install.log"
		for attempt in 1 2 3; do
			if (cd "$dir" && npm_config_cache="$dir/.npm-cache" npm install --ignore-scripts --no-audit --no-fund \
				--fetch-retries=2 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 --loglevel=error "$name@$version") >"$log" 2>&1; then
				break
			fi
			echo "observatory.sh: npm install $name@$version failed (attempt $attempt of 3)" >&2
			rm -rf "$dir/node_modules" "$dir/package-lock.json"
			if [ "$attempt" = 3 ]; then
				tail -n 20 "$log" >&2
				echo "observatory.sh: cannot install $name@$version from $(npm config get registry 2>/dev/null) into $dir; full log: $log" >&2
				return 1
			fi
			sleep $((attempt * 5))
		done
		if [ "$(node -p "require('$pkg/package.json').version" 2>/dev/null)" != "$version" ] || [ ! -f "$pkg/src/scan.js" ]; then
			echo "observatory.sh: npm install finished but $pkg/src/scan.js ($version) is missing; log: $log" >&2
			return 1
		fi
		echo "$version" >"$dir/.complete" || return 1
	fi
	printf '{}\n' >"$pkg/conf/hsts-preload.json" || return 1
	export HTTPMW_OBSERVATORY_DIR="$dir"
	echo "observatory.sh: MDN HTTP Observatory $version in $HTTPMW_OBSERVATORY_DIR (node $(node --version))" >&2
}
if ! httpmw_observatory_install; then
	unset -f httpmw_observatory_install
	echo "observatory.sh: install failed; the Observatory test cannot run" >&2
	return 1
fi
unset -f httpmw_observatory_install
