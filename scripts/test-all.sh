#!/usr/bin/env bash
# Runs every test of every module in this repository (race detector on).
# Extra arguments are passed to go test, e.g. scripts/test-all.sh -count=1.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for mod in $(git ls-files --cached --others --exclude-standard -- '*go.mod' | sort); do
	dir=$(dirname "$mod")
	echo "== go test -race $dir/..."
	(cd "$dir" && go test -race -shuffle=on -timeout 45m "$@" ./...) || status=1
done
exit $status
