#pragma once
/// <ldns/ldns.h> made safe for C++: without this, ldns/common.h defines the
/// macros `bool`, `true` and `false` (it cannot see that C++ has them), which
/// breaks any standard header included after it (<optional> among them).
/// <stdbool.h> sets __bool_true_false_are_defined first, so ldns skips that.

// The order is the point of this header, so clang-format must not sort it.
// clang-format off
#include <stdbool.h>  // IWYU pragma: keep
#include <ldns/ldns.h>  // IWYU pragma: export
// clang-format on
