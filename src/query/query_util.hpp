// Small helpers shared by the planner, the SQL writer, the cursor and the explanations.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/dimensions/universe.hpp"
#include "majordome/query/expression.hpp"
#include "majordome/registry/database.hpp"

namespace majordome::query::detail {

inline constexpr std::int64_t kUnboundedBegin = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kUnboundedEnd = std::numeric_limits<std::int64_t>::max();

inline std::string quote(const std::string& s) { return "\"" + s + "\""; }
std::string lower(std::string s);

// `terms` joined by `op` (" AND ", " OR "), grouped in parentheses when there are many:
// SQLite parses a flat `a OR b OR c …` into a left-deep tree and refuses one deeper than
// 1000 (SQLITE_MAX_EXPR_DEPTH), so a long list must not be written flat. PostgreSQL
// flattens either shape. Lists of up to 64 terms, all that most queries have, stay flat.
std::string balanced_join(std::span<const std::string> terms, std::string_view op);

// A bind's text as an integer, a float or else a string.
registry::SqlValue bind_value(const std::string& text);

// The candidate closest to `name` (edit distance under 4), for "did you mean" hints.
std::string nearest(const std::string& name, const std::vector<std::string>& candidates);

bool is_null_identifier(const Expr& e);
const Expr& strip_parens(const Expr& e);
// The top-level AND terms of an expression.
void split_conjuncts(const Expr& e, std::vector<const Expr*>& out);
bool is_region_identifier(const Expr& e);
bool is_region_literal(const Expr& e);
bool is_spatial_overlap(const Expr& e);

// The universe's topology (its `topology` section): spatial families (most specific element
// first: visit_detector_region, visit) and temporal families (exposure, visit, day_obs).
struct Topology {
  std::vector<std::vector<std::string>> spatial, temporal;
};
// Read once per universe text; the reference stays valid for the life of the process.
const Topology& topology_of(const dimensions::Universe& universe);

}  // namespace majordome::query::detail
