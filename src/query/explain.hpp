// Explanations of empty results (internal).
#pragma once

#include <vector>

#include "majordome/query/plan.hpp"
#include "majordome/query/query.hpp"

namespace majordome::query::detail {

// Why `spec`, planned as `plan`, found no row; `candidates` is the number of rows that went
// through exact spatial tests.
std::vector<EmptyReason> explain_empty(registry::Registry& reg, const QuerySpec& spec, const LogicalPlan& plan,
                                       std::size_t candidates);

}  // namespace majordome::query::detail
