/* libFuzzer target: fz_react (tests/fuzz/targets.h). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_react(data, size);
    return 0;
}
