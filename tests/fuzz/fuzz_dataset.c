/* libFuzzer target: fz_dataset (tests/fuzz/targets.h). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_dataset(data, size);
    return 0;
}
