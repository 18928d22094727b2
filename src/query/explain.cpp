// Why a query found nothing: the collections searched, the element tables joined, and each
// constraint tried alone (a probe that stops at the first row it finds).
#include "explain.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/query/cursor.hpp"
#include "query_util.hpp"

namespace majordome::query {

namespace {

// A constraint quoted in an explanation, cut to a readable length.
std::string shortened(const std::string& text) { return text.size() <= 200 ? text : text.substr(0, 197) + "..."; }

// Whether a query has no row at all. Find-first and de-duplication never empty a result
// that has rows, so the probe skips them; without exact spatial tests it is one unordered
// statement with LIMIT 1, whatever the size of the tables.
bool matches_nothing(registry::Registry& reg, QuerySpec spec) {
  spec.limit = 1;
  spec.offset = 0;
  spec.order_by.clear();
  LogicalPlan plan = plan_query(reg, spec);
  if (plan.datasets) plan.datasets->find_first = false;
  plan.dedupe = false;
  CursorOptions options;
  options.unordered = plan.limit_in_sql();
  options.first_page = 64;
  Cursor cursor(reg, std::move(plan), options);
  return !cursor.next();
}

}  // namespace

std::string EmptyReason::message() const {
  switch (kind) {
    case Kind::kNoCollection: return fmt::format("no collection matches {}", fmt::join(names, ", "));
    case Kind::kDatasetTypeAbsent:
      return fmt::format("no '{}' datasets in the searched collection{} {}", dataset_type, names.size() > 1 ? "s" : "",
                         fmt::join(names, ", "));
    case Kind::kCalibrationsSkipped:
      return fmt::format("a find-first search reads the CALIBRATION collection{} {} only for a time: add an "
                         "exposure or visit to the query, or constrain {}.timespan OVERLAPS (…)",
                         names.size() > 1 ? "s" : "", fmt::join(names, ", "), dataset_type);
    case Kind::kNoRecords: return fmt::format("there are no '{}' records in this repository", names.at(0));
    case Kind::kConstraintNoDataset:
      return fmt::format("no '{}' dataset matches the constraint '{}' by itself", dataset_type, names.at(0));
    case Kind::kConstraintAlone: return fmt::format("the constraint '{}' matches nothing by itself", names.at(0));
    case Kind::kConstraint: return fmt::format("the constraint '{}' matches nothing", names.at(0));
    case Kind::kDataIdAlone: return fmt::format("{}={} matches nothing by itself", names.at(0), names.at(1));
    case Kind::kNoExactOverlap:
      return fmt::format("{} candidate row{} shared htm7 sky pixels with the regions involved, but none overlaps "
                         "exactly", count, count == 1 ? "" : "s");
    case Kind::kOnlyTogether: return "each constraint matches something on its own, but not all of them together";
    case Kind::kNoDatasetType: return fmt::format("no dataset type matches {}", fmt::join(names, ", "));
  }
  return {};
}

namespace detail {

std::vector<EmptyReason> explain_empty(registry::Registry& reg, const QuerySpec& spec, const LogicalPlan& plan,
                                       std::size_t candidates) {
  using Kind = EmptyReason::Kind;
  std::vector<EmptyReason> out;
  // Collections without the dataset type.
  if (plan.datasets) {
    const auto& type = plan.datasets->type.parent_name();
    if (plan.datasets->collections.empty()) {
      out.push_back({Kind::kNoCollection, type, spec.datasets->collections, 0});
      return out;
    }
    std::vector<std::string> with_type, without;
    for (const auto& c : plan.datasets->collections) {
      auto summary = reg.collection_summary(c.name);
      bool has = std::find(summary.dataset_types.begin(), summary.dataset_types.end(), type) != summary.dataset_types.end();
      (has ? with_type : without).push_back(c.name);
    }
    if (with_type.empty()) {
      out.push_back({Kind::kDatasetTypeAbsent, type, without, 0});
      return out;
    }
    if (!plan.datasets->skipped_calibrations.empty())
      out.push_back({Kind::kCalibrationsSkipped, type, plan.datasets->skipped_calibrations, 0});
  }
  // Dimensions without records.
  for (const auto& element : plan.joined_elements) {
    auto rows = registry::sql_database(reg).query(fmt::format("SELECT 1 FROM {} LIMIT 1", quote(reg.dimension_table(element))));
    if (rows.empty()) out.push_back({Kind::kNoRecords, {}, {element}, 0});
  }
  if (!out.empty()) return out;
  // Constraints that match nothing by themselves.
  std::size_t tried = 0;
  const auto& conjuncts = plan.conjuncts;
  const std::string dataset_name = plan.datasets ? plan.datasets->type.name : "";
  if (conjuncts.size() + spec.data_id.size() > 1 || (plan.datasets && (!conjuncts.empty() || !spec.data_id.empty()))) {
    for (const auto& c : conjuncts) {
      if (++tried > 8) break;
      QuerySpec s = spec;
      s.where = c;
      s.data_id.clear();
      if (!matches_nothing(reg, s)) continue;
      if (plan.datasets)  // with the dataset search: the constraint may match records, not datasets
        out.push_back({Kind::kConstraintNoDataset, dataset_name, {shortened(c)}, 0});
      else
        out.push_back({Kind::kConstraintAlone, {}, {shortened(c)}, 0});
    }
    for (const auto& [k, v] : spec.data_id) {
      if (++tried > 8) break;
      QuerySpec s = spec;
      s.where.clear();
      s.data_id = {{k, v}};
      if (matches_nothing(reg, s))
        out.push_back({Kind::kDataIdAlone, {},
                       {k, std::holds_alternative<std::string>(v) ? std::get<std::string>(v)
                                                                   : std::to_string(std::get<std::int64_t>(v))},
                       0});
    }
  } else if (conjuncts.size() == 1) {
    out.push_back({Kind::kConstraint, {}, {shortened(conjuncts[0])}, 0});
  }
  if (out.empty() && !plan.spatial_filters.empty() && candidates > 0)
    out.push_back({Kind::kNoExactOverlap, {}, {}, candidates});
  if (out.empty() && (conjuncts.size() + spec.data_id.size()) > 1) out.push_back({Kind::kOnlyTogether, {}, {}, 0});
  return out;
}

}  // namespace detail

}  // namespace majordome::query
