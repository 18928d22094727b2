// The steps of planning, in order, each adding relations, constraints and selected columns
// to the LogicalPlan:
//   1. the dimensions of the result: those asked for, the dataset type's, the data ID's and
//      those the expression and the order mention;
//   2. a source column for every required dimension: the dataset's tags table first, then
//      element tables, most specific first (a visit table also provides the instrument);
//      relationship tables Rubin always joins (visit_definition, visit_system_membership);
//   3. spatial relations through the htm7 overlap tables, each remembered as an exact test
//      (sky pixel dimensions first, so the expression can constrain them), and the
//      expression's other conjuncts compiled to SQL (type-checked);
//   4. the data ID as equalities;
//   5. the dataset search (collections, calibration validity against the query's timespan
//      or the expression's <type>.timespan);
//   6. the selected columns of a result row, then ORDER BY (a total order), the dataset and
//      run tables when needed, then LEFT JOINs that read the implied dimensions of the rows.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region.hpp"
#include "planner.hpp"

namespace majordome::query {
namespace detail {

namespace {

using dimensions::FieldType;
using registry::Params;
using registry::SqlValue;

// Dimension names an expression or order item refers to (elements contribute their
// required dimensions).
void collect_dimensions(const dimensions::Universe& u, const Identifier& id, const Binds& binds,
                        const std::string& dataset_type, std::vector<std::string>& names) {
  if (binds.count(id.name()) || id.parts.empty()) return;
  const std::string& head = id.parts[0];
  if (id.parts.size() == 1) {
    if (u.is_dimension(head)) names.push_back(head);
    return;
  }
  if (head == dataset_type) return;
  const auto* e = u.find(head);
  if (!e) return;
  if (e->is_dimension()) names.push_back(head);
  for (const auto& d : e->required()) names.push_back(d);
}

Identifier order_identifier(const std::string& text) {
  Identifier id;
  for (std::size_t start = 0;;) {
    auto dot = text.find('.', start);
    id.parts.push_back(text.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return id;
}

}  // namespace

Planner::Planner(registry::Registry& reg, const QuerySpec& spec)
    : reg_(reg), u_(reg.universe()), spec_(spec), topology_(topology_of(reg.universe())),
      column_(plan_.dimension_columns) {
  tree_ = parse_expression(spec.where);
  plan_.records_of = spec.records_of;
  plan_.limit = spec.limit;
  plan_.offset = spec.offset;
  for (const Expr* c : conjunct_exprs()) plan_.conjuncts.push_back(c->str());
}

void Planner::plan() {
  plan_dimensions();
  plan_sources();
  auto family_elements = plan_spatial();
  compile_where();
  if (family_elements.size() == 2) {
    auto key = std::make_pair(std::min(family_elements[0], family_elements[1]),
                              std::max(family_elements[0], family_elements[1]));
    if (!spatially_joined_.count(key)) spatial_join(family_elements[0], family_elements[1]);
  }
  plan_data_id();
  plan_dataset_search();
  plan_columns();
  plan_order();
  plan_dataset_rows();
  join_implied_for_expansion();
  for (const auto& d : plan_.dimensions.implied())
    if (auto it = column_.find(d); it != column_.end()) plan_.columns.implied.emplace_back(d, select(it->second));
  if (plan_.relations.empty()) throw InvalidQueryError("nothing to query: give dimensions, a dataset type or an element");
}

// 1. Dimensions.
void Planner::plan_dimensions() {
  std::vector<std::string> names = spec_.dimensions;
  if (spec_.datasets) {
    dataset_ = reg_.get_dataset_type(spec_.datasets->dataset_type);
    for (const auto& d : dataset_->dimensions.required()) names.push_back(d);
    find_first_ = spec_.datasets->find_first;
  }
  for (const auto& [k, v] : spec_.data_id) {
    if (!u_.is_dimension(k)) {
      std::string hint = u_.suggest(k);
      throw InvalidQueryError(fmt::format("data ID key '{}' is not a dimension{}", k,
                                          hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    names.push_back(k);
  }
  if (!spec_.records_of.empty()) {
    const auto& e = u_.get(spec_.records_of);
    for (const auto& d : e.required()) names.push_back(d);
    if (e.is_dimension()) names.push_back(e.name());
  }
  const std::string dataset_name = dataset_ ? dataset_->name : "";
  if (tree_)
    walk(*tree_, [&](const Expr& x) {
      if (const auto* id = x.as<Identifier>()) collect_dimensions(u_, *id, spec_.binds, dataset_name, names);
    });
  for (const auto& item : spec_.order_by) {
    std::string text = !item.empty() && item[0] == '-' ? item.substr(1) : item;
    collect_dimensions(u_, order_identifier(text), spec_.binds, dataset_name, names);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  plan_.dimensions = u_.group(names);
}

// 2. Sources: the dataset's tags table, then element tables, most specific first; then the
// relationship tables.
void Planner::plan_sources() {
  if (dataset_) {
    for (const auto& d : dataset_->dimensions.required()) column_[d] = "t." + quote(d);
    // The dataset relation is filled in by plan_dataset_search() but comes first.
    plan_.relations.push_back({PlanRelation::Kind::kDatasetSearch, dataset_->name, "t", "", {}, {}});
  }
  const auto& required = plan_.dimensions.required();
  for (auto it = required.rbegin(); it != required.rend(); ++it) {
    if (column_.count(*it) || u_.get(*it).is_skypix()) continue;
    dimension(*it, nullptr);
  }
  for (const auto* e : u_.elements()) {
    if (!e->always_join() || !e->has_table() || joined_.count(e->name())) continue;
    if (std::all_of(e->required().begin(), e->required().end(), [&](const auto& d) { return plan_.dimensions.contains(d); }))
      join(e->name());
  }
}

// 3. Spatial: sky pixel dimensions related to the most specific spatial element of the
// query. Returns that element of each spatial family present (the universe's topology).
std::vector<std::string> Planner::plan_spatial() {
  std::vector<std::string> family_elements;
  for (const auto& family : topology_.spatial)
    for (const auto& name : family) {
      const auto* e = u_.find(name);
      if (!e || !e->has_table()) continue;
      if (std::all_of(e->required().begin(), e->required().end(), [&](const auto& d) { return plan_.dimensions.contains(d); })) {
        family_elements.push_back(name);
        break;
      }
    }
  // Sky pixel dimensions first, so the expression can constrain them (htm7 = 253954).
  for (const auto& s : plan_.dimensions.required()) {
    const auto& e = u_.get(s);
    if (!e.is_skypix() || column_.count(s)) continue;  // a dataset's pixel column is an ordinary column
    if (e.skypix_system() != "htm")
      throw UnsupportedError(fmt::format("'{}': only HTM sky pixelizations can be queried so far", s));
    RegionOperand pixel{RegionOperand::Kind::kPixel, 0, e.skypix_level(), nullptr, {}};
    auto given = spec_.data_id.find(s);
    if (given != spec_.data_id.end()) {
      auto v = std::get<std::int64_t>(dimensions::conform_value(e, given->second));
      if (sphere::HtmPixelization::level_of(static_cast<std::uint64_t>(v)) != e.skypix_level())
        throw InvalidQueryError(fmt::format("{}={} is not a level-{} HTM pixel", s, v, e.skypix_level()));
      column_[s] = std::to_string(v);  // validated integer
      constant_skypix_.insert(s);
      if (!family_elements.empty()) {
        auto triangle =
            std::make_shared<sphere::ConvexPolygon>(sphere::HtmPixelization::triangle(static_cast<std::uint64_t>(v)));
        constrain_region(family_elements.front(), triangle);
      }
      continue;
    }
    if (family_elements.empty())
      throw InvalidQueryError(fmt::format(
          "'{}' is a sky pixelization with no stored records: give its value in the data ID or query it together "
          "with a spatial dimension (visit, tract, patch, …)", s));
    if (e.skypix_level() != registry::kOverlapLevel)
      throw UnsupportedError(fmt::format("'{}' can be related to regions only at the common level htm{} so far", s,
                                         registry::kOverlapLevel));
    std::string o = join_overlap(family_elements.front());
    column_[s] = o + ".skypix_index";
    pixel.column = select(column_[s]);
    plan_.spatial_filters.push_back({region_column(family_elements.front()), pixel});
  }
  return family_elements;
}

// 4. The data ID.
void Planner::plan_data_id() {
  for (const auto& [k, v] : spec_.data_id) {
    if (constant_skypix_.count(k)) continue;
    std::string col = dimension(k, nullptr);
    auto conformed = dimensions::conform_value(u_.get(k), v);
    SqlValue param = std::holds_alternative<std::int64_t>(conformed) ? SqlValue(std::get<std::int64_t>(conformed))
                                                                     : SqlValue(std::get<std::string>(conformed));
    plan_.constraints.push_back({PlanConstraint::Kind::kDataId, col + " = ?", {param},
                                 fmt::format("{}={}", k, dimensions::to_string(v))});
  }
}

// 5. The dataset search.
void Planner::plan_dataset_search() {
  if (!dataset_) return;
  PlanDatasets search;
  search.type = *dataset_;
  search.find_first = find_first_;
  std::vector<std::string> collection_names;
  for (const auto& c : spec_.datasets->collections) {
    if (c == "*" || c == "..." || c.find_first_of("*?[") != std::string::npos) {
      if (find_first_)
        throw InvalidQueryError(fmt::format("Can not use wildcards in collections ('{}') with find-first search; "
                                            "list the collections in order", c));
      for (const auto& r : reg_.query_collections({c == "..." ? "*" : c})) collection_names.push_back(r.name);
    } else {
      collection_names.push_back(c);
    }
  }
  search.collections = reg_.flatten(collection_names);
  std::vector<std::int64_t> plain, calib;
  for (const auto& c : search.collections)
    (c.type == registry::CollectionType::kCalibration ? calib : plain).push_back(c.id);
  std::optional<std::string> calibs_table;
  if (dataset_->is_calibration && !calib.empty()) calibs_table = reg_.calibs_table(*dataset_);
  // The timespan of a calibration lookup: the first element of a temporal family (the
  // universe's topology: exposure, visit, day_obs) among the query's required dimensions.
  for (const auto& family : topology_.temporal) {
    for (const auto& name : family) {
      const auto& req = plan_.dimensions.required();
      const auto* e = u_.find(name);
      if (e && e->has_table() && std::find(req.begin(), req.end(), name) != req.end()) {
        search.temporal_element = name;
        break;
      }
    }
    if (!search.temporal_element.empty()) break;
  }
  // A find-first search reads CALIBRATION collections only for a time: the query's
  // exposure/visit or a constraint on the datasets' validity ranges.
  search.calibrations = calibs_table && (!search.temporal_element.empty() || !find_first_ || dataset_timespan_);
  if (calibs_table && !search.calibrations)
    for (const auto& c : search.collections)
      if (c.type == registry::CollectionType::kCalibration) search.skipped_calibrations.push_back(c.name);
  auto type_id = reg_.dataset_type_id(dataset_->parent_name());
  std::vector<std::string> dims;
  for (const auto& d : dataset_->dimensions.required()) dims.push_back(quote(d));
  std::string dim_list = dims.empty() ? "" : ", " + fmt::format("{}", fmt::join(dims, ", "));
  auto in_list = [](const std::vector<std::int64_t>& ids, Params& params) {
    for (auto id : ids) params.emplace_back(id);
    return fmt::format("({})", fmt::join(std::vector<std::string>(ids.size(), "?"), ", "));
  };
  auto& relation = plan_.relations.front();
  // SQLite, several RUN/TAGGED collections and no DISTINCT: one SELECT per collection under
  // UNION ALL. Each reads its collection in the order of the tags table's unique key
  // (collection, data ID) and SQLite merges the compound's arms in order (it flattens the
  // joins into each arm) without sorting the whole search: the first rows of a chain of runs
  // come as fast as those of one run. A DISTINCT query would have to materialize the union,
  // and past a few collections the statement grows too long: an IN list there. PostgreSQL
  // does not push joins into the arms of such a union (it read every row of the collections
  // before joining the exposure of `exposure.day_obs = …`), and plans each arm (a subquery
  // with a WHERE) on its own: there, arms only for a search ordered by the dataset's data ID
  // that joins no other table yet, each arm ordered by it so that an index scan gives it
  // and a Merge Append merges them (text columns sort by bytes there too: schema v3).
  constexpr std::size_t kMaxArms = 16;
  const bool sqlite = registry::sql_database(reg_).dialect() == registry::Dialect::kSqlite;
  const bool postgres_merge = !sqlite && plan_.relations.size() == 1 && spec_.order_by.empty() &&
                              plan_.dimensions.required() == dataset_->dimensions.required() && !dims.empty();
  if ((sqlite || postgres_merge) && !search.calibrations && !dataset_timespan_ && plain.size() > 1 &&
      plain.size() <= kMaxArms && !plan_.distinct) {
    std::vector<std::string> arms;
    Params params;
    for (auto id : plain) {
      std::string arm = fmt::format("SELECT dataset_type_id, collection_id, dataset_id{} FROM {} "
                                    "WHERE dataset_type_id = ? AND collection_id = ?",
                                    dim_list, quote(reg_.tags_table(*dataset_)));
      arms.push_back(sqlite ? arm : fmt::format("({} ORDER BY {})", arm, fmt::join(dims, ", ")));
      params.emplace_back(type_id);
      params.emplace_back(id);
    }
    relation.source = fmt::format("({})", fmt::join(arms, " UNION ALL "));
    relation.params = std::move(params);
  } else if (!search.calibrations && !dataset_timespan_) {
    Params params{type_id};
    std::string ids = plain.empty() ? "(NULL)" : in_list(plain, params);
    relation.source = quote(reg_.tags_table(*dataset_));
    plan_.constraints.insert(plan_.constraints.begin(),
                             {PlanConstraint::Kind::kDatasetSearch,
                              fmt::format("t.dataset_type_id = ? AND t.collection_id IN {}", ids), params, {}});
  } else {
    std::string parts;
    Params params;
    if (!plain.empty() || !search.calibrations) {
      params.emplace_back(type_id);
      std::string ids = in_list(plain, params);
      parts = fmt::format("SELECT dataset_id, collection_id{}, CAST(NULL AS BIGINT) AS timespan_begin, "
                          "CAST(NULL AS BIGINT) AS timespan_end FROM {} "
                          "WHERE dataset_type_id = ? AND collection_id IN {}",
                          dim_list, quote(reg_.tags_table(*dataset_)), plain.empty() ? "(NULL)" : ids);
    }
    if (search.calibrations) {
      params.emplace_back(type_id);
      std::string ids = in_list(calib, params);
      parts += fmt::format("{}SELECT dataset_id, collection_id{}, timespan_begin, timespan_end FROM {} "
                           "WHERE dataset_type_id = ? AND collection_id IN {}",
                           parts.empty() ? "" : " UNION ALL ", dim_list, quote(*calibs_table), ids);
    }
    relation.source = "(" + parts + ")";
    relation.params = std::move(params);
    if (!search.temporal_element.empty()) {
      std::string alias = join(search.temporal_element);
      plan_.constraints.push_back({PlanConstraint::Kind::kCalibrationValidity,
                                   fmt::format("(t.timespan_begin IS NULL OR (t.timespan_begin < {0}.\"timespan_end\" AND "
                                               "t.timespan_end > {0}.\"timespan_begin\"))", alias),
                                   {}, {}});
    }
  }
  plan_.datasets = std::move(search);
}

// 5b. The dataset table and its run, when something needs them: the expression or the order
// (ingest_date, run), or a collection that is not a RUN (a TAGGED or CALIBRATION one holds
// datasets of other runs). Otherwise a dataset's run is the RUN collection it was found in,
// and the statement saves two index lookups per row on the largest table of the registry.
void Planner::plan_dataset_rows() {
  if (!dataset_) return;
  auto& search = *plan_.datasets;
  bool runs_only = !search.calibrations;
  for (const auto& c : search.collections)
    if (c.type != registry::CollectionType::kRun && c.type != registry::CollectionType::kCalibration) runs_only = false;
  if (runs_only && !dataset_row_needed_) {
    plan_.columns.run_from_collection = true;
    return;
  }
  plan_.relations.push_back({PlanRelation::Kind::kDatasetRow, dataset_->name, "d", "dataset", {}, {"d.dataset_id = t.dataset_id"}});
  plan_.relations.push_back({PlanRelation::Kind::kDatasetRow, dataset_->name, "r", "collection", {}, {"r.collection_id = d.run_id"}});
  plan_.columns.run = select("r.name");
}

// 6a. Selected columns: required dimensions first (in group order), then the rest.
void Planner::plan_columns() {
  const auto& required = plan_.dimensions.required();
  auto& columns = plan_.columns;
  for (const auto& d : required) columns.required.push_back(select(dimension(d, nullptr)));
  if (dataset_) {
    columns.dataset_id = select("t.dataset_id");
    columns.collection = select("t.collection_id");
    plan_.dedupe = required != dataset_->dimensions.required();
    // A dataset dimension the query's other dimensions imply (a flat's physical_filter when the
    // query has the exposure) is not among the group's required columns: read it from the dataset.
    for (const auto& d : dataset_->dimensions.required())
      if (std::find(required.begin(), required.end(), d) == required.end())
        columns.dataset_implied.emplace_back(d, select(column_.at(d)));
  }
  if (!spec_.records_of.empty()) {
    const auto& e = u_.get(spec_.records_of);
    if (e.has_table()) {
      std::string alias = join(e.name());
      columns.record_start = plan_.select.size();
      for (const auto& f : e.record_fields())
        for (const auto& c : registry::field_columns(f)) plan_.select.push_back(alias + "." + quote(c));
    }
    if (e.name() == "band") columns.band = select(dimension("band", nullptr));
    std::vector<std::string> own = e.required();
    if (e.is_dimension() && std::find(own.begin(), own.end(), e.name()) == own.end()) own.push_back(e.name());
    plan_.dedupe = plan_.dedupe || required.size() != own.size();
  } else if (!spec_.dimensions.empty()) {
    // A data-ID query: one row per data ID of the dimensions asked for, however many
    // datasets, collections or extra dimensions (a dataset type's, a spatial join's) match.
    const auto asked = u_.group(spec_.dimensions).required();
    for (std::size_t i = 0; i < required.size(); ++i)
      if (std::find(asked.begin(), asked.end(), required[i]) != asked.end()) columns.data_id_key.push_back(i);
    plan_.dedupe = dataset_.has_value() || asked.size() != required.size();
  }
}

// 6b. Order: the user's items, then every required dimension, then the collection (and for
// calibration searches the dataset, as one data ID may have several validity ranges in one
// collection), so that the order is total.
void Planner::plan_order() {
  for (const auto& item : spec_.order_by) {
    bool descending = !item.empty() && item[0] == '-';
    std::string text = descending ? item.substr(1) : item;
    if (text.empty()) throw InvalidQueryError("an empty --order-by item; give a field, e.g. visit or -exposure.day_obs");
    Identifier id = order_identifier(text);
    // A bare field of the element whose records are listed.
    if (id.parts.size() == 1 && !spec_.records_of.empty() && !u_.is_dimension(text)) {
      const auto& e = u_.get(spec_.records_of);
      if (e.field_index(text)) id.parts.insert(id.parts.begin(), e.name());
    }
    Column c;
    try {
      c = identifier(id, Expr{Identifier{id}, {}});
    } catch (const ExpressionError& err) {
      throw InvalidQueryError(fmt::format("--order-by '{}': {}", item, err.reason()));
    }
    plan_.order.push_back({c.sql, select(c.sql), descending, c.type == FieldType::kString, c.nullable});
    // A dataset's own field (run, ingest_date, dataset_id) is not a function of the data ID.
    if (c.sql.starts_with("t.") || c.sql.starts_with("d.") || c.sql.starts_with("r.")) plan_.grouped_by_data_id = false;
  }
  for (const auto& d : plan_.dimensions.required()) {
    std::string sql = dimension(d, nullptr);
    plan_.order.push_back({sql, select(sql), false, u_.get(d).keys()[0].type == FieldType::kString, false});
  }
  if (dataset_) {
    plan_.order.push_back({"t.collection_id", plan_.columns.collection, false, false, false});
    if (plan_.datasets->calibrations) plan_.order.push_back({"t.dataset_id", plan_.columns.dataset_id, false, false, false});
  }
}

}  // namespace detail

LogicalPlan plan_query(registry::Registry& registry, const QuerySpec& spec) {
  detail::Planner planner(registry, spec);
  planner.plan();
  return planner.take();
}

}  // namespace majordome::query
