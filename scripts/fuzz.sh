#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer under AddressSanitizer, each target for a bounded time:
#   scripts/fuzz.sh [seconds per target = 30] [target …]
# Targets (Fuzz/Harness): geojson, spatialite-blob, csv, wkt, cql2, query. Each starts from its committed corpus
# (Fuzz/Corpus/<target>, made by Fuzz/make-corpus.py) copied to a scratch folder, so a run never rewrites it.
# A crash or a broken invariant stops with the input saved as .fuzz/<target>-crash-…; copy it into
# Fuzz/Regressions/<target>/ with the fix, and FuzzRegressionTests keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(geojson spatialite-blob csv wkt cql2 query)

# SwiftPM gives every executable its own main, so the driver calls libFuzzer's LLVMFuzzerRunDriver and links the
# runtime without libFuzzer's main; the code is instrumented as -sanitize=fuzzer would (coverage, comparisons).
swift_bin="$(dirname "$(readlink -f "$(command -v swift)")")"
runtime="$(ls "$swift_bin"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-"$(uname -m)".a 2>/dev/null | head -1)"
[ -n "$runtime" ] || { echo "fuzz.sh: this toolchain has no libclang_rt.fuzzer_no_main (libFuzzer)" >&2; exit 1; }
echo "building the fuzz driver (.build-fuzz) …"
# The build's own status (pipefail), not the filter's: a failed build must not leave an old driver to run.
if ! GEOGRID_FUZZ=1 swift build --build-path .build-fuzz --product geogrid-fuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xlinker "$runtime" -Xlinker -lstdc++ 2>&1 | { grep -vE "Cannot export local symbol|distributed-tracing|^\[" || true; }; then
    echo "fuzz.sh: the driver did not build" >&2
    exit 1
fi
driver=.build-fuzz/debug/geogrid-fuzz

mkdir -p .fuzz
failed=0
for t in "${targets[@]}"; do
    work=".fuzz/$t-corpus"
    rm -rf "$work" && mkdir -p "$work"
    cp Fuzz/Corpus/"$t"/* "$work"/
    # Swift's own backtracer would wait on a crash; libFuzzer and ASan report it.
    if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 GEOGRID_FUZZ_TARGET="$t" \
        "$driver" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix=".fuzz/$t-" > ".fuzz/$t.log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' ".fuzz/$t.log" | grep -o '[0-9]*$' || echo '?')
        cov=$(grep -oE 'cov: [0-9]+' ".fuzz/$t.log" | tail -1)
        echo "fuzz $t: PASS ($runs inputs in ${seconds}s, $cov, corpus $(ls "$work" | wc -l))"
    else
        failed=1
        echo "fuzz $t: FAIL — $(ls -t .fuzz/"$t"-crash-* .fuzz/"$t"-timeout-* .fuzz/"$t"-oom-* 2>/dev/null | head -1)"
        grep -E "Fatal error|ERROR: |SUMMARY" ".fuzz/$t.log" | head -5
    fi
done
exit $failed
