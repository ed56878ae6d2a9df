#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the fuzz targets with libFuzzer (clang, ASan + UBSan) and fuzz one of them.
#   tools/fuzz.sh build                      set up and build build-fuzz/
#   tools/fuzz.sh dispatch 1.6 [SECONDS]     fuzz the dispatcher with OCPP 1.6 frames only
#   tools/fuzz.sh dispatch 2.0.1 [SECONDS]   ... with OCPP 2.0.1 frames only
#   tools/fuzz.sh frame|cfg|api|import [SECONDS]  the other targets
# New inputs go to build-fuzz/work-<target>[-<version>] (outside the tree); the seeds come from
# tests/fuzz/corpus/<target>. A crash writes crash-<sha1> into the current folder: fix it and add
# the file to tests/fuzz/corpus/<target>/ (replayed by `meson test --suite fuzz`).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bld=${FUZZ_BUILD:-$src/build-fuzz}

build() {
	if [ ! -f "$bld/build.ninja" ]; then
		CC=clang meson setup "$bld" "$src" -Dfuzzing_engine=libfuzzer \
			-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
			-Dc_args=-fsanitize=fuzzer-no-link >/dev/null
	fi
	ninja -C "$bld" tests/fuzz/fuzz_frame tests/fuzz/fuzz_cfg tests/fuzz/fuzz_dispatch \
		tests/fuzz/fuzz_api tests/fuzz/fuzz_import
}

case "${1:-}" in
build)
	build
	;;
dispatch)
	ver=${2:?version: 1.6 or 2.0.1}
	secs=${3:-600}
	build
	work="$bld/work-dispatch-$ver"
	mkdir -p "$work"
	FUZZ_DISPATCH_VERSION=$ver UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$bld/tests/fuzz/fuzz_dispatch" -max_total_time="$secs" -print_final_stats=1 \
		"$work" "$src/tests/fuzz/corpus/dispatch"
	;;
frame | cfg | api | import)
	secs=${2:-600}
	build
	work="$bld/work-$1"
	mkdir -p "$work"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$bld/tests/fuzz/fuzz_$1" -max_total_time="$secs" -print_final_stats=1 \
		"$work" "$src/tests/fuzz/corpus/$1"
	;;
*)
	sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
