// Compiled with the include paths product code gets (vpt_includes) by
// product_includes_test.sh, which expects this to FAIL: product code must not
// reach test helpers.
#include "tests/vpt_tune_runner.hpp"
