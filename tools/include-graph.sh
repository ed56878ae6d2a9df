#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the module-level include graph of the tree (edges with #include counts), its module and
# file include cycles and the module-table violations (tools/lint_layers.py --graph).
#   tools/include-graph.sh            the working tree
#   tools/include-graph.sh REV        the tree of git revision REV (e.g. main, HEAD~3), for a
#                                     before/after comparison
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
if [ $# -eq 0 ]; then
	exec python3 "$here/lint_layers.py" --root "$src" --graph
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$src" archive "$1" -- csms ocpp chargepoint-sim tests bench | tar -x -C "$tmp"
echo "# revision $1 = $(git -C "$src" rev-parse --short "$1")"
python3 "$here/lint_layers.py" --root "$tmp" --graph | sed "s|$tmp|$1|"
