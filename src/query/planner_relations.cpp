// The planner's relations: where each dimension's value is read, the element tables joined
// on the dimensions they share with the query, and the spatial machinery (htm7 overlap
// joins, region constraints) with the exact tests that decide them after SQL.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region.hpp"
#include "planner.hpp"

namespace majordome::query::detail {

using dimensions::DimensionElement;
using registry::Params;

std::string Planner::dimension(const std::string& d, const Expr* at) {
  if (auto it = column_.find(d); it != column_.end()) return it->second;
  const auto* e = u_.find(d);
  if (!plan_.dimensions.contains(d) || !e) {
    std::string hint = u_.suggest(d);
    std::string reason = fmt::format("'{}' is not a dimension of this query (its dimensions are {}){}", d,
                                     fmt::join(plan_.dimensions.names(), ", "),
                                     hint.empty() || hint == d ? "" : "; did you mean '" + hint + "'?");
    if (at) fail(*at, reason);
    throw InvalidQueryError(reason);
  }
  if (e->is_skypix())
    throw InvalidQueryError(fmt::format(
        "'{}' is a sky pixelization with no stored records: give its value in the data ID or query it together "
        "with a spatial dimension (visit, tract, patch, …)", d));
  // An implied dimension: read it from the table of an element that implies it, preferring
  // one already joined.
  const DimensionElement* implier = nullptr;
  for (const auto& name : plan_.dimensions.names()) {
    const auto& x = u_.get(name);
    const auto& imp = x.direct_implied();
    if (!x.has_table() || std::find(imp.begin(), imp.end(), d) == imp.end()) continue;
    if (joined_.count(name)) {
      implier = &x;
      break;
    }
    if (!implier) implier = &x;
  }
  if (implier) {
    join(implier->name());
    return column_.at(d);
  }
  if (!e->has_table()) {  // band alone: the bands physical filters have
    add_relation(PlanRelation::Kind::kBandView, "band",
                 fmt::format("(SELECT DISTINCT \"band\" AS \"name\" FROM {})", quote(reg_.dimension_table("physical_filter"))),
                 "e_band", {});
    joined_.insert(d);
    column_[d] = "e_band.\"name\"";
    return column_[d];
  }
  join(d);
  return column_.at(d);
}

// Joins `element`'s table (alias e_<element>) on the dimensions it shares with the query.
std::string Planner::join(const std::string& element) {
  std::string alias = "e_" + element;
  if (joined_.count(element)) return alias;
  const auto& e = u_.get(element);
  if (element == "band") {
    dimension("band", nullptr);
    return alias;
  }
  if (!e.has_table()) throw InvalidQueryError(fmt::format("'{}' has no records to join", element));
  std::vector<std::string> on;
  std::vector<std::pair<std::string, std::string>> provides;
  for (std::size_t i = 0; i < e.required().size(); ++i) {
    const auto& d = e.required()[i];
    std::string col = alias + "." + quote(e.record_fields()[i].name);
    if (auto it = column_.find(d); it != column_.end()) {
      on.push_back(fmt::format("{} = {}", col, it->second));
    } else if (std::find(plan_.dimensions.required().begin(), plan_.dimensions.required().end(), d) != plan_.dimensions.required().end() ||
               !plan_.dimensions.contains(d)) {
      provides.emplace_back(d, col);
    } else {
      on.push_back(fmt::format("{} = {}", col, dimension(d, nullptr)));
    }
  }
  for (const auto& d : e.direct_implied()) {
    if (!plan_.dimensions.contains(d)) continue;
    std::string col = alias + "." + quote(d);
    if (auto it = column_.find(d); it != column_.end()) on.push_back(fmt::format("{} = {}", col, it->second));
    else provides.emplace_back(d, col);
  }
  add_relation(PlanRelation::Kind::kElement, element, quote(reg_.dimension_table(element)), alias, std::move(on));
  joined_.insert(element);
  plan_.joined_elements.push_back(element);
  for (auto& [d, col] : provides) column_.emplace(d, col);
  return alias;
}

void Planner::add_relation(PlanRelation::Kind kind, const std::string& element, std::string source,
                           const std::string& alias, std::vector<std::string> on, Params params) {
  plan_.relations.push_back({kind, element, alias, std::move(source), std::move(params), std::move(on)});
}

// The htm7 overlap rows of a spatial element's records (alias o_<element>).
std::string Planner::join_overlap(const std::string& element, const std::string& pixel_equals) {
  std::string alias = "o_" + element;
  if (overlap_joined_.count(element)) return alias;
  const auto& e = u_.get(element);
  std::vector<std::string> on{fmt::format("{}.skypix_system = 'htm' AND {}.skypix_level = {}", alias, alias,
                                          registry::kOverlapLevel)};
  for (const auto& d : e.required()) on.push_back(fmt::format("{}.{} = {}", alias, quote(d), dimension(d, nullptr)));
  if (!pixel_equals.empty()) on.push_back(fmt::format("{}.skypix_index = {}", alias, pixel_equals));
  add_relation(PlanRelation::Kind::kOverlap, element, quote(reg_.overlap_table(element)), alias, std::move(on));
  overlap_joined_.insert(element);
  plan_.distinct = true;
  return alias;
}

std::size_t Planner::select(const std::string& sql) {
  auto& columns = plan_.select;
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == sql) return i;
  columns.push_back(sql);
  return columns.size() - 1;
}

RegionOperand Planner::region_column(const std::string& element) {
  std::string alias = join(element);
  return {RegionOperand::Kind::kColumn, select(alias + ".\"region\""), 0, nullptr, element};
}

const DimensionElement& Planner::spatial_element(const Identifier& id, const Expr& at) {
  const auto* e = u_.find(id.parts[0]);
  if (!e) fail(at, fmt::format("Unrecognized identifier '{}'; did you mean '{}.region'?", id.name(), u_.suggest(id.parts[0])));
  if (!e->spatial() || !e->has_table()) {
    std::vector<std::string> spatial;
    for (const auto* x : u_.elements())
      if (x->spatial() && x->has_table()) spatial.push_back(x->name());
    fail(at, fmt::format("'{}' has no region; elements with regions are {}", e->name(), fmt::join(spatial, ", ")));
  }
  return *e;
}

std::pair<std::string, std::string> Planner::timespan_columns(const std::string& element, const Expr& at) {
  const auto& e = u_.get(element);
  if (!e.temporal() || !e.has_table()) {
    std::vector<std::string> temporal;
    for (const auto* x : u_.elements())
      if (x->temporal() && x->has_table()) temporal.push_back(x->name());
    fail(at, fmt::format("'{}' has no timespan; elements with timespans are {}", element, fmt::join(temporal, ", ")));
  }
  std::string alias = join(element);
  return {alias + ".\"timespan_begin\"", alias + ".\"timespan_end\""};
}

void Planner::spatial_conjunct(const BinaryOp& b) {
  const Expr& lhs = strip_parens(*b.lhs);
  const Expr& rhs = strip_parens(*b.rhs);
  bool l_id = is_region_identifier(lhs), r_id = is_region_identifier(rhs);
  if (l_id && r_id) {
    const auto& ea = spatial_element(lhs.get<Identifier>(), lhs);
    const auto& eb = spatial_element(rhs.get<Identifier>(), rhs);
    spatial_join(ea.name(), eb.name());
    return;
  }
  if (!l_id && !r_id) {
    auto ra = region_literal(lhs), rb = region_literal(rhs);
    auto o = ra->overlaps(*rb);
    if (o && !*o) plan_.constraints.push_back({PlanConstraint::Kind::kEmpty, "1 = 0", {}, {}});
    return;
  }
  const Expr& id_side = l_id ? lhs : rhs;
  const auto& element = spatial_element(id_side.get<Identifier>(), id_side);
  auto region = region_literal(l_id ? rhs : lhs);
  constrain_region(element.name(), region);
}

void Planner::spatial_join(const std::string& a, const std::string& b) {
  if (a == b) return;
  std::string oa = join_overlap(a);
  join_overlap(b, oa + ".skypix_index");
  plan_.spatial_filters.push_back({region_column(a), region_column(b)});
  spatially_joined_.insert({std::min(a, b), std::max(a, b)});
}

void Planner::constrain_region(const std::string& element, std::shared_ptr<const sphere::Region> region) {
  const auto& e = u_.get(element);
  const sphere::HtmPixelization htm(registry::kOverlapLevel);
  auto pixels = htm.envelope(*region, 64);
  // The pixels as one IN list when there are not too many: the database then looks each one
  // up in the pixel index. An OR of ranges made SQLite scan the whole overlap table (the
  // key prefix it pushed down from the outer query looked cheaper than four ranges), which
  // cost time in proportion to the repository rather than to the region.
  constexpr std::uint64_t kMaxListed = 2048;
  std::uint64_t count = 0;
  for (const auto& [first, last] : pixels.ranges()) count += last - first;
  Params params;
  std::vector<std::string> ranges;
  if (count <= kMaxListed) {
    for (const auto& [first, last] : pixels.ranges())
      for (auto pixel = first; pixel < last; ++pixel) params.emplace_back(static_cast<std::int64_t>(pixel));
    if (count > 0)
      ranges.push_back(fmt::format("skypix_index IN ({})", fmt::join(std::vector<std::string>(count, "?"), ", ")));
  } else {
    for (const auto& [first, last] : pixels.ranges()) {
      ranges.emplace_back("skypix_index BETWEEN ? AND ?");
      params.emplace_back(static_cast<std::int64_t>(first));
      params.emplace_back(static_cast<std::int64_t>(last - 1));
    }
  }
  if (ranges.empty()) ranges.emplace_back("1 = 0");
  std::string alias = fmt::format("c{}", constraint_count_++);
  std::vector<std::string> dims, on;
  for (const auto& d : e.required()) {
    dims.push_back(quote(d));
    on.push_back(fmt::format("{}.{} = {}", alias, quote(d), dimension(d, nullptr)));
  }
  add_relation(PlanRelation::Kind::kRegionConstraint, element,
               fmt::format("(SELECT DISTINCT {} FROM {} WHERE skypix_system = 'htm' AND skypix_level = {} AND ({}))",
                           fmt::join(dims, ", "), quote(reg_.overlap_table(element)), registry::kOverlapLevel,
                           fmt::join(ranges, " OR ")),
               alias, std::move(on), std::move(params));
  plan_.spatial_filters.push_back({region_column(element), {RegionOperand::Kind::kConstant, 0, 0, std::move(region), {}}});
}

// Implied dimensions of the result that no joined table gives yet (a raw's physical_filter,
// day_obs and band when its exposure comes from the dataset's own table) are read by LEFT
// JOINs on the tables that imply them, in the same statement, instead of by expanding
// every row afterwards. Backwards through the group: later elements imply earlier ones
// (exposure → physical_filter → band). A missing record leaves the value out, never the row.
void Planner::join_implied_for_expansion() {
  const auto& names = plan_.dimensions.names();
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    const auto& e = u_.get(*it);
    if (!e.has_table() || joined_.count(e.name())) continue;
    std::vector<std::string> wanted;
    for (const auto& d : e.direct_implied())
      if (plan_.dimensions.contains(d) && !column_.count(d)) wanted.push_back(d);
    if (wanted.empty()) continue;
    const std::string alias = "x_" + e.name();
    std::vector<std::string> on;
    bool keyed = true;
    for (std::size_t i = 0; i < e.required().size() && keyed; ++i) {
      auto c = column_.find(e.required()[i]);
      if (c == column_.end()) keyed = false;
      else on.push_back(fmt::format("{}.{} = {}", alias, quote(e.record_fields()[i].name), c->second));
    }
    if (!keyed) continue;
    add_relation(PlanRelation::Kind::kImplied, e.name(), quote(reg_.dimension_table(e.name())), alias, std::move(on));
    for (const auto& d : wanted) column_.emplace(d, alias + "." + quote(d));
  }
}

}  // namespace majordome::query::detail
