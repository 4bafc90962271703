#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs with their own main (compiler-rt FuzzerInterface.h): SwiftPM gives every
// executable a main of its own, so the driver hands control to libFuzzer through this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
