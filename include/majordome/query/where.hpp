// Where-expressions applied to registry searches.
//
// Compiles a user's where-expression (the language of docs/query_language.md) against a
// dataset type or a dimension element into constraints the registry runs: SQL predicates
// with bound parameters (never user text pasted into SQL).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "majordome/registry/registry.hpp"

namespace majordome::query {

// Values for :name placeholders; each is parsed as an integer, a float or else a string.
// A comma-separated value becomes a list (for `IN (:ids)`).
using Binds = std::map<std::string, std::string>;

// Adds the constraints of `where` to a dataset query for `type`. Throws InvalidQueryError
// showing the expression with a caret under the problem.
void apply_where(registry::Registry& registry, const registry::DatasetType& type, const std::string& where,
                 const Binds& binds, registry::DatasetQuery& query);

// Records of `element` matching `where` (which may also name dimensions the element
// depends on) and the data ID constraints.
std::vector<dimensions::DimensionRecord> query_dimension_records(registry::Registry& registry,
                                                                 const std::string& element,
                                                                 const std::string& where, const Binds& binds,
                                                                 const registry::DataId& data_id);

}  // namespace majordome::query
