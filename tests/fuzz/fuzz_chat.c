/* libFuzzer target: fz_chat (tests/fuzz/targets.h). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_chat(data, size);
    return 0;
}
