#!/usr/bin/env bash
# The README's second command: install what is missing and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
swift build --build-tests
swift test
# The parsers under libFuzzer, each target for a bounded time from its committed corpus (scripts/fuzz.sh).
scripts/fuzz.sh "${GEOGRID_FUZZ_SECONDS:-30}"
