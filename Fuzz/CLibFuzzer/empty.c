// The target holds only libfuzzer.h's declaration; libFuzzer itself comes with -sanitize=fuzzer.
