#!/bin/sh
# SPDX-License-Identifier: MIT
# Fuzz every target for N minutes each, one at a time under nice (the machine may be shared),
# and print runs, coverage and findings per target.
#   bench/fuzz.sh [MINUTES] [TARGET...]
#   targets (default all): frame cfg dispatch-1.6 dispatch-2.0.1 api import
# Builds build-fuzz/ with tools/fuzz.sh (clang, libFuzzer, ASan + UBSan). New inputs go to
# build-fuzz/work-<target>, crashes to build-fuzz/crashes-<target>/, the full output to
# build-fuzz/fuzz-<target>.log. A crash: fix it, add the input to tests/fuzz/corpus/<corpus>/.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bld=${FUZZ_BUILD:-$src/build-fuzz}
mins=${1:-10}
secs=${FUZZ_SECONDS:-$((mins * 60))} # FUZZ_SECONDS overrides (a quick check of the script)
[ $# -gt 0 ] && shift
targets=${*:-frame cfg dispatch-1.6 dispatch-2.0.1 api import}

FUZZ_BUILD=$bld "$src/tools/fuzz.sh" build >/dev/null
found=0
for t in $targets; do
	case $t in
	dispatch-*) exe=fuzz_dispatch ver=${t#dispatch-} corpus=dispatch ;;
	frame | cfg | api | import) exe=fuzz_$t ver= corpus=$t ;;
	*) echo "unknown target $t" >&2; exit 2 ;;
	esac
	work=$bld/work-$t
	crashes=$bld/crashes-$t
	log=$bld/fuzz-$t.log
	mkdir -p "$work" "$crashes"
	before=$(find "$crashes" -type f | wc -l)
	status=ok
	# -close_fd_mask=2: the targets' own stderr (bad import rows, log lines) is noise here;
	# libFuzzer's report still comes through
	FUZZ_DISPATCH_VERSION=$ver UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		nice -n 10 "$bld/tests/fuzz/$exe" -max_total_time="$secs" \
		-print_final_stats=1 -close_fd_mask=2 -artifact_prefix="$crashes/" \
		"$work" "$src/tests/fuzz/corpus/$corpus" >"$log" 2>&1 || status=FAILED
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	after=$(find "$crashes" -type f | wc -l)
	n=$((after - before)) # new ones only
	found=$((found + n))
	printf '%-15s %s  runs %s  cov %s  ft %s  corpus %s  crashes %s  (%s s)\n' "$t" "$status" \
		"${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$n" "$secs"
done
[ "$found" -eq 0 ]
