/*
 * libFuzzer targets: each fuzz-<name>.c defines LLVMFuzzerTestOneInput.
 * Built with clang -fsanitize=fuzzer,address,undefined by `make fuzz`;
 * built with replay.c's main by `make check`, which runs the corpora so
 * that the targets never rot.
 */
#ifndef EH_FUZZ_H
#define EH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
