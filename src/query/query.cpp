// The query planner and executor (see include/majordome/query/query.hpp for the model).
//
// Planning happens in this order, each step adding FROM items, WHERE conditions and
// selected columns:
//   1. the dimensions of the result: those asked for, the dataset type's, the data ID's and
//      those the expression and the order mention;
//   2. a source column for every required dimension: the dataset's tags table first, then
//      element tables, most specific first (a visit table also provides the instrument);
//   3. relationship tables Rubin always joins (visit_definition, visit_system_membership);
//   4. spatial relations through the htm7 overlap tables, each remembered as an exact test
//      (sky pixel dimensions first, so the expression can constrain them);
//   5. the expression's other conjuncts compiled to SQL (type-checked), the data ID as
//      equalities;
//   6. the dataset search (collections, calibration validity against the query's timespan
//      or the expression's <type>.timespan);
//   7. ORDER BY; LIMIT in SQL only when no row can be dropped or merged afterwards.
#include "majordome/query/query.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/core/uuid.hpp"
#include "majordome/query/expr_error.hpp"
#include "majordome/query/expr_time.hpp"
#include "majordome/query/expression.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::query {

namespace {

using dimensions::DimensionElement;
using dimensions::FieldType;
using registry::Params;
using registry::SqlValue;

constexpr std::int64_t kUnboundedBegin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kUnboundedEnd = std::numeric_limits<std::int64_t>::max();

// The spatial families of the universe, most specific element first (universe.yaml's
// topology section).
const std::vector<std::vector<std::string>> kSpatialFamilies{{"visit_detector_region", "visit"}, {"patch", "tract"}};
// Elements whose timespan a calibration lookup uses, in order of preference.
const std::vector<std::string> kTemporalElements{"exposure", "visit"};

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// `terms` joined by `op` (" AND ", " OR "), grouped in parentheses when there are many:
// SQLite parses a flat `a OR b OR c …` into a left-deep tree and refuses one deeper than
// 1000 (SQLITE_MAX_EXPR_DEPTH), so a long list must not be written flat. PostgreSQL
// flattens either shape. Lists of up to kFlat terms, all that most queries have, stay flat.
std::string balanced_join(std::span<const std::string> terms, std::string_view op) {
  constexpr std::size_t kFlat = 64;
  if (terms.size() <= kFlat) return fmt::format("{}", fmt::join(terms, op));
  const std::size_t middle = (terms.size() + 1) / 2;
  return "(" + balanced_join(terms.first(middle), op) + ")" + std::string(op) + "(" +
         balanced_join(terms.subspan(middle), op) + ")";
}

SqlValue bind_value(const std::string& text) {
  std::int64_t i = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), i);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return i;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return d;
  return text;
}

// The candidate closest to `name` (edit distance under 4), for "did you mean" hints.
std::string nearest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 4;
  for (const auto& c : candidates) {
    std::vector<std::size_t> row(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (name[i - 1] == c[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[c.size()] < best_distance) {
      best_distance = row[c.size()];
      best = c;
    }
  }
  return best;
}

bool is_null_identifier(const Expr& e) {
  const auto* id = e.as<Identifier>();
  return id && id->parts.size() == 1 && lower(id->parts[0]) == "null";
}

const Expr& strip_parens(const Expr& e) {
  const Expr* x = &e;
  while (const auto* p = x->as<Parens>()) x = p->inner.get();
  return *x;
}

// The top-level AND terms of an expression.
void split_conjuncts(const Expr& e, std::vector<const Expr*>& out) {
  const Expr& x = strip_parens(e);
  if (const auto* b = x.as<BinaryOp>(); b && b->op == BinaryOperator::kAnd) {
    split_conjuncts(*b->lhs, out);
    split_conjuncts(*b->rhs, out);
    return;
  }
  out.push_back(&x);
}

bool is_region_identifier(const Expr& e) {
  const auto* id = strip_parens(e).as<Identifier>();
  return id && id->parts.size() == 2 && lower(id->parts[1]) == "region";
}

bool is_region_literal(const Expr& e) {
  const Expr& x = strip_parens(e);
  return x.as<PointCall>() || x.as<CircleCall>() || x.as<BoxCall>() || x.as<PolygonCall>() || x.as<RegionCall>();
}

// One operand of an exact region test: a selected region column, a selected pixel id, or
// a constant region.
struct RegionOperand {
  enum class Kind { kColumn, kPixel, kConstant } kind = Kind::kColumn;
  std::size_t column = 0;
  int pixel_level = 0;
  std::shared_ptr<const sphere::Region> constant;
};

struct SpatialTest {
  RegionOperand a, b;
};

// A selected column in SQL, with what the binder knows of its type.
struct Column {
  std::string sql;
  std::optional<FieldType> type;
  bool time = false;  // nanoseconds TAI
};

struct FromItem {
  std::string sql;  // "FROM x a", "JOIN x a ON …", "CROSS JOIN x a"
  Params params;
};

class Planner {
 public:
  Planner(registry::Registry& reg, const QuerySpec& spec) : reg_(reg), u_(reg.universe()), spec_(spec) {
    tree_ = parse_expression(spec.where);
  }

  void plan();
  registry::ResultSet execute(bool push_limit);
  std::vector<ResultRow> finish(const registry::ResultSet& rows, bool* more, std::size_t* candidates);
  bool limit_pushable() const {
    return spatial_tests_.empty() && !find_first_ && !needs_dedupe_;
  }
  const dimensions::DimensionGroup& group() const { return group_; }
  const std::vector<std::string>& joined_tables() const { return joined_tables_; }
  std::vector<const Expr*> conjuncts() const {
    std::vector<const Expr*> out;
    if (tree_) split_conjuncts(*tree_, out);
    return out;
  }
  const std::optional<Expr>& tree() const { return tree_; }
  std::size_t spatial_test_count() const { return spatial_tests_.size(); }

  [[noreturn]] void fail(const Expr& at, const std::string& reason) const {
    throw ExpressionError(spec_.where, at.pos, reason, "Invalid expression");
  }

  // ---- sources and joins ----------------------------------------------------------------

  // SQL for the value of dimension `d`, joining element tables as needed.
  std::string dimension(const std::string& d, const Expr* at) {
    if (auto it = column_.find(d); it != column_.end()) return it->second;
    const auto* e = u_.find(d);
    if (!group_.contains(d) || !e) {
      std::string hint = u_.suggest(d);
      std::string reason = fmt::format("'{}' is not a dimension of this query (its dimensions are {}){}", d,
                                       fmt::join(group_.names(), ", "),
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
    for (const auto& name : group_.names()) {
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
      add_from(fmt::format("(SELECT DISTINCT \"band\" AS \"name\" FROM {}) e_band", quote(reg_.dimension_table("physical_filter"))),
               {}, {});
      joined_.insert(d);
      column_[d] = "e_band.\"name\"";
      return column_[d];
    }
    join(d);
    return column_.at(d);
  }

  // Joins `element`'s table (alias e_<element>) on the dimensions it shares with the query.
  std::string join(const std::string& element) {
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
      } else if (std::find(group_.required().begin(), group_.required().end(), d) != group_.required().end() ||
                 !group_.contains(d)) {
        provides.emplace_back(d, col);
      } else {
        on.push_back(fmt::format("{} = {}", col, dimension(d, nullptr)));
      }
    }
    for (const auto& d : e.direct_implied()) {
      if (!group_.contains(d)) continue;
      std::string col = alias + "." + quote(d);
      if (auto it = column_.find(d); it != column_.end()) on.push_back(fmt::format("{} = {}", col, it->second));
      else provides.emplace_back(d, col);
    }
    add_from(fmt::format("{} {}", quote(reg_.dimension_table(element)), alias), on, {});
    joined_.insert(element);
    joined_tables_.push_back(element);
    for (auto& [d, col] : provides) column_.emplace(d, col);
    return alias;
  }

  void add_from(const std::string& item, const std::vector<std::string>& on, Params params) {
    if (from_.empty()) from_.push_back({"FROM " + item, std::move(params)});
    else if (on.empty()) from_.push_back({"CROSS JOIN " + item, std::move(params)});
    else from_.push_back({fmt::format("JOIN {} ON {}", item, fmt::join(on, " AND ")), std::move(params)});
  }

  // The htm7 overlap rows of a spatial element's records (alias o_<element>).
  std::string join_overlap(const std::string& element, const std::string& pixel_equals = {}) {
    std::string alias = "o_" + element;
    if (overlap_joined_.count(element)) return alias;
    const auto& e = u_.get(element);
    std::vector<std::string> on{fmt::format("{}.skypix_system = 'htm' AND {}.skypix_level = {}", alias, alias,
                                            registry::kOverlapLevel)};
    for (const auto& d : e.required()) on.push_back(fmt::format("{}.{} = {}", alias, quote(d), dimension(d, nullptr)));
    if (!pixel_equals.empty()) on.push_back(fmt::format("{}.skypix_index = {}", alias, pixel_equals));
    add_from(fmt::format("{} {}", quote(reg_.overlap_table(element)), alias), on, {});
    overlap_joined_.insert(element);
    distinct_ = true;
    return alias;
  }

  std::size_t select(const std::string& sql) {
    for (std::size_t i = 0; i < select_.size(); ++i)
      if (select_[i] == sql) return i;
    select_.push_back(sql);
    return select_.size() - 1;
  }

  RegionOperand region_column(const std::string& element) {
    std::string alias = join(element);
    return {RegionOperand::Kind::kColumn, select(alias + ".\"region\""), 0, nullptr};
  }

  // ---- identifiers --------------------------------------------------------------------

  const DimensionElement& spatial_element(const Identifier& id, const Expr& at) {
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

  Column identifier(const Identifier& id, const Expr& at) {
    const auto& parts = id.parts;
    if (parts.size() == 1) {
      const std::string& n = parts[0];
      if (u_.is_dimension(n)) return {dimension(n, &at), u_.get(n).keys()[0].type};
      if (dataset_) {
        if (n == "dataset_id") return {"t.dataset_id", std::nullopt};
        if (n == "run") return {"r.name", FieldType::kString};
        if (n == "ingest_date") return {"d.ingest_date", FieldType::kInt, true};
      }
      if (n == "timespan" && dataset_)
        fail(at, fmt::format("'timespan' (the validity range of the '{}' datasets) can only be used with OVERLAPS",
                             dataset_->name));
      if (n == "region" || n == "timespan")
        fail(at, fmt::format("'{}' needs the element it belongs to, e.g. visit.{}", n, n));
      std::vector<std::string> owners;
      for (const auto& name : group_.names()) {
        const auto& e = u_.get(name);
        if (!e.has_table()) continue;
        bool has = false;
        for (std::size_t k = 1; k < e.keys().size(); ++k) has = has || e.keys()[k].name == n;
        for (const auto& f : e.metadata()) has = has || f.name == n;
        if (has) owners.push_back(name);
      }
      // query-dimension-records resolves unqualified fields against its element first.
      if (!spec_.records_of.empty() && std::find(owners.begin(), owners.end(), spec_.records_of) != owners.end())
        return element_field(spec_.records_of, n, at);
      if (owners.size() == 1) return element_field(owners[0], n, at);
      if (owners.size() > 1)
        fail(at, fmt::format("Ambiguous identifier '{}': it is a field of {}; qualify it (e.g. {}.{})", n,
                             fmt::join(owners, " and "), owners[0], n));
      std::vector<std::string> fields;
      for (const auto& name : group_.names()) {
        const auto& e = u_.get(name);
        if (!e.has_table()) continue;
        for (std::size_t k = 1; k < e.keys().size(); ++k) fields.push_back(e.keys()[k].name);
        for (const auto& f : e.metadata()) fields.push_back(f.name);
      }
      std::string hint = nearest(n, fields);
      if (hint.empty()) hint = u_.suggest(n);
      fail(at, fmt::format("Unrecognized identifier '{}'{}", n, hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    if (dataset_ && parts[0] == dataset_->name) {
      if (parts.size() == 2 && parts[1] == "dataset_id") return {"t.dataset_id", std::nullopt};
      if (parts.size() == 2 && parts[1] == "run") return {"r.name", FieldType::kString};
      if (parts.size() == 2 && parts[1] == "ingest_date") return {"d.ingest_date", FieldType::kInt, true};
      if (parts.size() == 2 && lower(parts[1]) == "timespan")
        fail(at, fmt::format("'{}' (the validity range of the datasets) can only be used with OVERLAPS", id.name()));
      fail(at, fmt::format("Unrecognized identifier '{}': datasets have dataset_id, run, ingest_date and timespan",
                           id.name()));
    }
    if (!u_.find(parts[0])) {
      std::string hint = u_.suggest(parts[0]);
      fail(at, fmt::format("Unrecognized identifier '{}'{}", id.name(), hint.empty() ? "" : "; did you mean '" + hint + ".…'?"));
    }
    if (parts.size() == 3) {
      if (lower(parts[1]) != "timespan" || (lower(parts[2]) != "begin" && lower(parts[2]) != "end"))
        fail(at, fmt::format("Unrecognized identifier '{}': only <element>.timespan.begin and .end have three parts", id.name()));
      auto [begin, end] = timespan_columns(parts[0], at);
      return {lower(parts[2]) == "begin" ? begin : end, FieldType::kInt, true};
    }
    return element_field(parts[0], parts[1], at);
  }

  std::pair<std::string, std::string> timespan_columns(const std::string& element, const Expr& at) {
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

  Column element_field(const std::string& element, const std::string& field, const Expr& at) {
    const auto& e = u_.get(element);
    bool in_query = group_.contains(element) ||
                    (!e.is_dimension() && std::all_of(e.required().begin(), e.required().end(),
                                                      [&](const auto& d) { return group_.contains(d); }));
    if (!in_query)
      fail(at, fmt::format("'{}.{}': '{}' is not part of this query (its dimensions are {})", element, field, element,
                           fmt::join(group_.names(), ", ")));
    if (e.is_dimension() && (field == e.keys()[0].name || field == "id" || field == element))
      return {dimension(element, &at), e.keys()[0].type};
    if (u_.is_dimension(field) && std::find(e.required().begin(), e.required().end(), field) != e.required().end())
      return {dimension(field, &at), u_.get(field).keys()[0].type};
    if (field == "region") fail(at, fmt::format("'{}.region' can only be used with OVERLAPS", element));
    if (field == "timespan") fail(at, fmt::format("'{}.timespan' can only be used with OVERLAPS (or as {}.timespan.begin/end)", element, element));
    auto idx = e.field_index(field);
    if (!idx) {
      std::vector<std::string> names;
      for (const auto& f : e.record_fields()) names.push_back(f.name);
      std::string hint = nearest(field, names);
      fail(at, fmt::format("Unrecognized identifier '{}.{}'{}: {} has fields {}", element, field,
                           hint.empty() ? "" : fmt::format(" (did you mean '{}.{}'?)", element, hint), element,
                           fmt::join(names, ", ")));
    }
    if (element == "band") return {dimension("band", &at), FieldType::kString};
    return {join(element) + "." + quote(field), e.record_fields()[*idx].type};
  }

  // ---- expression compilation -----------------------------------------------------------

  std::string predicate(const Expr& e);
  std::string disjunction(const Expr& e);
  std::string value(const Expr& e, bool time_context = false);

  double number(const Expr& e) {
    const Expr& x = strip_parens(e);
    if (const auto* n = x.as<NumericLiteral>()) return n->value;
    if (const auto* b = x.as<Bind>()) {
      auto it = spec_.binds.find(b->name);
      if (it == spec_.binds.end()) fail(x, fmt::format("no value given for :{} (use --bind {}=VALUE)", b->name, b->name));
      char* end = nullptr;
      double v = std::strtod(it->second.c_str(), &end);
      if (it->second.empty() || end != it->second.c_str() + it->second.size())
        fail(x, fmt::format(":{} is '{}', not a number", b->name, it->second));
      return v;
    }
    if (const auto* u = x.as<UnaryOp>()) {
      if (u->op == UnaryOperator::kMinus) return -number(*u->operand);
      if (u->op == UnaryOperator::kPlus) return number(*u->operand);
    }
    if (const auto* b = x.as<BinaryOp>()) {
      double l = number(*b->lhs), r = number(*b->rhs);
      switch (b->op) {
        case BinaryOperator::kAdd: return l + r;
        case BinaryOperator::kSub: return l - r;
        case BinaryOperator::kMul: return l * r;
        case BinaryOperator::kDiv: return l / r;
        default: break;
      }
    }
    fail(x, "expected a number (a literal, a bind or arithmetic on those)");
  }

  std::shared_ptr<const sphere::Region> region_literal(const Expr& e) {
    const Expr& x = strip_parens(e);
    try {
      if (const auto* p = x.as<PointCall>())
        return std::make_shared<sphere::Circle>(sphere::point_region_from_degrees(number(*p->ra), number(*p->dec)));
      if (const auto* c = x.as<CircleCall>()) {
        const double radius = number(*c->radius);
        // Checked here, where the value is the one the user wrote: the sphere layer only
        // sees it doubled.
        if (!(radius >= 0.0))
          fail(*c->radius, fmt::format("invalid CIRCLE radius {} degrees (must be >= 0)", radius));
        // Rubin's quirk: an opening angle of twice the radius.
        return std::make_shared<sphere::Circle>(
            sphere::circle_from_degrees(number(*c->ra), number(*c->dec), 2.0 * radius));
      }
      if (const auto* b = x.as<BoxCall>())
        return std::make_shared<sphere::Box>(
            sphere::box_from_degrees(number(*b->ra), number(*b->dec), number(*b->width), number(*b->height)));
      if (const auto* p = x.as<PolygonCall>()) {
        std::vector<double> coords;
        for (const auto& c : p->coords) coords.push_back(number(c));
        return std::make_shared<sphere::ConvexPolygon>(sphere::polygon_from_degrees(coords));
      }
      std::string pos;
      if (const auto* r = x.as<RegionCall>()) {
        const Expr& arg = strip_parens(*r->pos);
        if (const auto* s = arg.as<StringLiteral>()) pos = s->value;
        else if (const auto* b = arg.as<Bind>()) pos = bind_text(*b, arg);
      } else if (const auto* b = x.as<Bind>()) {
        pos = bind_text(*b, x);
      } else {
        fail(x, "expected a region: POINT, CIRCLE, BOX, POLYGON, REGION('…') or a bind holding an IVOA POS string");
      }
      return std::shared_ptr<const sphere::Region>(sphere::parse_ivoa_pos(pos));
    } catch (const ExpressionError&) {
      throw;
    } catch (const Error& err) {
      fail(x, err.what());
    }
  }

  const std::string& bind_text(const Bind& b, const Expr& at) {
    auto it = spec_.binds.find(b.name);
    if (it == spec_.binds.end()) fail(at, fmt::format("no value given for :{} (use --bind {}=VALUE)", b.name, b.name));
    return it->second;
  }

  // A spatial conjunct: coarse SQL through the overlap tables plus an exact test.
  void spatial_conjunct(const BinaryOp& b, const Expr& /*at*/) {
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
      if (o && !*o) where_.push_back({"1 = 0", {}});
      return;
    }
    const Expr& id_side = l_id ? lhs : rhs;
    const auto& element = spatial_element(id_side.get<Identifier>(), id_side);
    auto region = region_literal(l_id ? rhs : lhs);
    constrain_region(element.name(), region);
  }

  void spatial_join(const std::string& a, const std::string& b) {
    if (a == b) return;
    std::string oa = join_overlap(a);
    join_overlap(b, oa + ".skypix_index");
    spatial_tests_.push_back({region_column(a), region_column(b)});
    spatially_joined_.insert({std::min(a, b), std::max(a, b)});
  }

  void constrain_region(const std::string& element, std::shared_ptr<const sphere::Region> region) {
    const auto& e = u_.get(element);
    const sphere::HtmPixelization htm(registry::kOverlapLevel);
    auto pixels = htm.envelope(*region, 64);
    Params params;
    std::vector<std::string> ranges;
    for (const auto& [first, last] : pixels.ranges()) {
      ranges.emplace_back("skypix_index BETWEEN ? AND ?");
      params.emplace_back(static_cast<std::int64_t>(first));
      params.emplace_back(static_cast<std::int64_t>(last - 1));
    }
    if (ranges.empty()) ranges.emplace_back("1 = 0");
    std::string alias = fmt::format("c{}", constraint_count_++);
    std::vector<std::string> dims, on;
    for (const auto& d : e.required()) {
      dims.push_back(quote(d));
      on.push_back(fmt::format("{}.{} = {}", alias, quote(d), dimension(d, nullptr)));
    }
    add_from(fmt::format("(SELECT DISTINCT {} FROM {} WHERE skypix_system = 'htm' AND skypix_level = {} AND ({})) {}",
                         fmt::join(dims, ", "), quote(reg_.overlap_table(element)), registry::kOverlapLevel,
                         fmt::join(ranges, " OR "), alias),
             on, std::move(params));
    spatial_tests_.push_back({region_column(element), {RegionOperand::Kind::kConstant, 0, 0, std::move(region)}});
  }

  // ---- temporal -------------------------------------------------------------------------

  struct Bound {
    std::string column;            // SQL column, or empty for a value
    std::int64_t value = 0;        // the value, or the column's value when it is NULL (with or_value)
    bool or_value = false;
  };
  struct TimespanOperand {
    Bound begin, end;
  };

  std::int64_t time_value(const Expr& e) {
    const Expr& x = strip_parens(e);
    if (const auto* t = x.as<TimeLiteral>()) return t->value.ns();
    if (const auto* b = x.as<Bind>()) {
      const auto& text = bind_text(*b, x);
      try {
        return parse_time_literal(text).time.ns();
      } catch (const Error& err) {
        fail(x, fmt::format(":{} = '{}' is not a time: {}", b->name, text, err.what()));
      }
    }
    fail(x, "expected a time: T'…', a bind holding a time, or NULL inside a (begin, end) pair");
  }

  TimespanOperand timespan_operand(const Expr& e) {
    const Expr& x = strip_parens(e);
    if (const auto* id = x.as<Identifier>()) {
      const auto& p = id->parts;
      if (dataset_ && !spec_.binds.count(id->name()) &&
          ((p.size() == 1 && lower(p[0]) == "timespan") ||
           (p.size() == 2 && p[0] == dataset_->name && lower(p[1]) == "timespan"))) {
        // The validity range of a dataset in a CALIBRATION collection; datasets of RUN and
        // TAGGED collections are valid at all times (NULL in the search's rows).
        dataset_timespan_ = true;
        return {{"t.timespan_begin", kUnboundedBegin, true}, {"t.timespan_end", kUnboundedEnd, true}};
      }
      if (id->parts.size() == 2 && lower(id->parts[1]) == "timespan") {
        auto [b, en] = timespan_columns(id->parts[0], x);
        return {{b, 0}, {en, 0}};
      }
      if (id->parts.size() == 1 || id->parts.size() == 3) {  // a time-valued column (ingest_date, x.timespan.begin)
        auto c = identifier(*id, x);
        if (!c.time) fail(x, fmt::format("'{}' is not a timespan or a time", id->name()));
        return {{c.sql, 0}, {"(" + c.sql + " + 1)", 0}};
      }
      fail(x, fmt::format("'{}' is not a timespan; use <element>.timespan", id->name()));
    }
    if (const auto* t = x.as<Tuple>()) {
      Bound begin{{}, kUnboundedBegin}, end{{}, kUnboundedEnd};
      if (!is_null_identifier(strip_parens(*t->first))) begin.value = time_value(*t->first);
      if (!is_null_identifier(strip_parens(*t->second))) end.value = time_value(*t->second);
      return {begin, end};
    }
    std::int64_t t = time_value(x);
    return {{{}, t}, {{}, t == kUnboundedEnd ? t : t + 1}};
  }

  std::string emit(const Bound& b, Params& params) {
    if (!b.column.empty() && b.or_value) {
      params.emplace_back(b.value);
      return "COALESCE(" + b.column + ", ?)";
    }
    if (!b.column.empty()) return b.column;
    params.emplace_back(b.value);
    return "?";
  }

  std::string temporal_overlap(const Expr& lhs, const Expr& rhs) {
    auto a = timespan_operand(lhs);
    auto b = timespan_operand(rhs);
    std::string s1 = emit(a.end, params_);
    std::string s2 = emit(b.begin, params_);
    std::string s3 = emit(b.end, params_);
    std::string s4 = emit(a.begin, params_);
    return fmt::format("({} > {} AND {} > {})", s1, s2, s3, s4);
  }

  // Compiling the expression's conjuncts into where_ (params_ collects their parameters).
  void compile_where();

  registry::Registry& reg_;
  const dimensions::Universe& u_;
  const QuerySpec& spec_;
  std::optional<Expr> tree_;
  dimensions::DimensionGroup group_;
  std::optional<registry::DatasetType> dataset_;
  std::vector<registry::CollectionRecord> searched_;
  bool find_first_ = false;
  bool dataset_timespan_ = false;  // the expression constrains the datasets' validity ranges
  std::vector<std::string> skipped_calibrations_;  // CALIBRATION collections a find-first search did not read
  bool needs_dedupe_ = false;
  bool distinct_ = false;
  std::map<std::string, std::string> column_;  // dimension → SQL
  std::set<std::string> joined_;
  std::vector<std::string> joined_tables_;
  std::set<std::string> overlap_joined_;
  std::set<std::string> constant_skypix_;
  std::set<std::pair<std::string, std::string>> spatially_joined_;
  std::vector<FromItem> from_;
  std::vector<FromItem> where_;
  Params params_;  // of the expression being compiled
  std::vector<std::string> select_;
  struct OrderItem {
    std::string sql;
    bool descending = false;
    bool text = false;
  };
  std::vector<OrderItem> order_;
  std::vector<SpatialTest> spatial_tests_;
  int constraint_count_ = 0;
  bool uuid_context_ = false;
  // Selected column indexes.
  std::vector<std::size_t> dim_columns_;
  std::size_t dataset_id_column_ = 0, collection_column_ = 0, run_column_ = 0;
  std::vector<std::pair<std::string, std::size_t>> dataset_implied_columns_;  // (dimension, column)
  std::vector<std::size_t> record_columns_;  // first column of each record field
  std::size_t record_start_ = 0;
  std::size_t band_column_ = 0;                 // records of band: its value
  std::vector<std::size_t> data_id_key_columns_;  // data-ID queries: positions in dim_columns_ of a row's key

  friend QueryResult run_query_impl(registry::Registry&, const QuerySpec&, bool);

 private:
  std::string compare(const BinaryOp& b, const char* op);
  // What a value is, for refusing comparisons that SQL would answer by accident (SQLite) or
  // refuse with a database error (PostgreSQL), and for typing binds.
  enum class Kind { kUnknown, kNumber, kString, kTime, kBool };
  static const char* kind_name(Kind k) {
    switch (k) {
      case Kind::kNumber: return "a number";
      case Kind::kString: return "a string";
      case Kind::kTime: return "a time";
      case Kind::kBool: return "a boolean";
      default: return "a value";
    }
  }
  Kind kind_of(const Expr& e);
  void check_comparable(const Expr& lhs, Kind lk, const Expr& rhs, Kind rk) {
    if (lk == Kind::kUnknown || rk == Kind::kUnknown || lk == rk) return;
    fail(rhs, fmt::format("type mismatch: {} is {}, {} is {}", brief(lhs), kind_name(lk), brief(rhs), kind_name(rk)));
  }
  // An operand as written, shortened for messages.
  static std::string brief(const Expr& e) {
    std::string text = strip_parens(e).str();
    return text.size() <= 40 ? text : text.substr(0, 37) + "...";
  }
  Kind bind_kind_ = Kind::kUnknown;  // what a bind in the comparison being compiled must be
  std::string is_in(const IsIn& in);
  std::string glob(const GlobCall& g, const Expr& at);
  // A bind's text as the value the other side of its comparison needs: a string stays a
  // string even when it looks like a number; a number must parse as one.
  SqlValue typed_bind(const Bind& b, const std::string& text, const Expr& at) {
    if (bind_kind_ == Kind::kString && !uuid_context_) return text;
    SqlValue v = text_value(text);
    if (bind_kind_ == Kind::kNumber && std::holds_alternative<std::string>(v))
      fail(at, fmt::format(":{} is '{}', not a number", b.name, text));
    return v;
  }
  SqlValue text_value(const std::string& text) const {
    if (uuid_context_)
      if (auto u = Uuid::parse(text)) return reg_.db().uuid_value(*u);
    return bind_value(text);
  }
  bool is_dataset_id(const Expr& e) const {
    const auto* id = strip_parens(e).as<Identifier>();
    if (!id || !dataset_ || spec_.binds.count(id->name())) return false;
    const auto& p = id->parts;
    return (p.size() == 1 && p[0] == "dataset_id") || (p.size() == 2 && p[0] == dataset_->name && p[1] == "dataset_id");
  }
  struct BindKindScope {
    BindKindScope(Planner& p, Kind k) : p_(p), saved_(p.bind_kind_) { p_.bind_kind_ = k; }
    ~BindKindScope() { p_.bind_kind_ = saved_; }
    Planner& p_;
    Kind saved_;
  };
  struct UuidContext {
    UuidContext(Planner& p, bool on) : p_(p), saved_(p.uuid_context_) { p_.uuid_context_ = on; }
    ~UuidContext() { p_.uuid_context_ = saved_; }
    Planner& p_;
    bool saved_;
  };
};

std::string Planner::predicate(const Expr& e) {
  if (const auto* b = e.as<BinaryOp>()) {
    switch (b->op) {
      case BinaryOperator::kAnd: {
        std::string lhs = predicate(*b->lhs);
        std::string rhs = predicate(*b->rhs);
        return "(" + lhs + " AND " + rhs + ")";
      }
      case BinaryOperator::kOr: return disjunction(e);
      case BinaryOperator::kOverlaps:
        if (is_region_identifier(*b->lhs) || is_region_identifier(*b->rhs) || is_region_literal(*b->lhs) ||
            is_region_literal(*b->rhs))
          fail(e, "a spatial OVERLAPS must be one of the terms joined by AND at the top of the expression "
                  "(not under OR or NOT), so that it can be decided exactly");
        return temporal_overlap(*b->lhs, *b->rhs);
      case BinaryOperator::kEq:
      case BinaryOperator::kNe: {
        bool eq = b->op == BinaryOperator::kEq;
        if (is_null_identifier(*b->rhs)) return value(*b->lhs) + (eq ? " IS NULL" : " IS NOT NULL");
        if (is_null_identifier(*b->lhs)) return value(*b->rhs) + (eq ? " IS NULL" : " IS NOT NULL");
        return compare(*b, eq ? "=" : "<>");
      }
      case BinaryOperator::kLt: return compare(*b, "<");
      case BinaryOperator::kLe: return compare(*b, "<=");
      case BinaryOperator::kGt: return compare(*b, ">");
      case BinaryOperator::kGe: return compare(*b, ">=");
      default: fail(e, "an arithmetic expression is not a condition; compare it with something");
    }
  }
  if (const auto* u = e.as<UnaryOp>()) {
    if (u->op == UnaryOperator::kNot) return "NOT (" + predicate(*u->operand) + ")";
    fail(e, "a signed value is not a condition");
  }
  if (const auto* p = e.as<Parens>()) return predicate(*p->inner);
  if (const auto* in = e.as<IsIn>()) return is_in(*in);
  if (const auto* g = e.as<GlobCall>()) return glob(*g, e);
  if (const auto* id = e.as<Identifier>()) {
    auto c = identifier(*id, e);
    if (c.type != FieldType::kBool) fail(e, fmt::format("'{}' is not a boolean field; compare it with a value", id->name()));
    return "(" + c.sql + ")";
  }
  fail(e, fmt::format("a {} is not a condition", node_kind_name(e.kind())));
}

std::string Planner::value(const Expr& e, bool time_context) {
  if (const auto* n = e.as<NumericLiteral>()) {
    if (n->integer) params_.emplace_back(*n->integer);
    else params_.emplace_back(n->value);
    return "?";
  }
  if (const auto* s = e.as<StringLiteral>()) {
    params_.push_back(text_value(s->value));
    return "?";
  }
  if (const auto* t = e.as<TimeLiteral>()) {
    params_.emplace_back(t->value.ns());
    return "?";
  }
  if (const auto* id = e.as<Identifier>()) {
    if (auto it = spec_.binds.find(id->name()); it != spec_.binds.end()) {  // legacy bare-name binds
      params_.push_back(typed_bind(Bind{id->name()}, it->second, e));
      return "?";
    }
    return identifier(*id, e).sql;
  }
  if (const auto* b = e.as<Bind>()) {
    const auto& text = bind_text(*b, e);
    if (text.find(',') != std::string::npos) fail(e, fmt::format(":{} holds a list; use it inside IN (…)", b->name));
    if (time_context) params_.emplace_back(time_value(e));
    else params_.push_back(typed_bind(*b, text, e));
    return "?";
  }
  if (const auto* u = e.as<UuidCall>()) {
    params_.push_back(reg_.db().uuid_value(u->value));
    return "?";
  }
  if (const auto* p = e.as<Parens>()) return "(" + value(*p->inner, time_context) + ")";
  if (const auto* u = e.as<UnaryOp>()) {
    if (u->op == UnaryOperator::kMinus) return "(-" + value(*u->operand) + ")";
    if (u->op == UnaryOperator::kPlus) return value(*u->operand);
    fail(e, "NOT applies to conditions, not values");
  }
  if (const auto* b = e.as<BinaryOp>()) {
    static const std::map<BinaryOperator, const char*> kOps{{BinaryOperator::kAdd, "+"}, {BinaryOperator::kSub, "-"},
                                                            {BinaryOperator::kMul, "*"}, {BinaryOperator::kDiv, "/"},
                                                            {BinaryOperator::kMod, "%"}};
    auto op = kOps.find(b->op);
    if (op == kOps.end()) fail(e, "a condition is not a value here");
    std::string lhs = value(*b->lhs);
    std::string rhs = value(*b->rhs);
    return "(" + lhs + " " + op->second + " " + rhs + ")";
  }
  if (e.as<RangeLiteral>()) fail(e, "a range a..b is only allowed inside IN (…)");
  if (is_region_literal(e)) fail(e, "a region can only be used with OVERLAPS");
  if (e.as<Tuple>()) fail(e, "a (begin, end) pair is a timespan; it can only be used with OVERLAPS");
  if (const auto* f = e.as<FunctionCall>()) fail(e, fmt::format("unknown function '{}'", f->name));
  fail(e, fmt::format("a {} cannot be used as a value here", node_kind_name(e.kind())));
}

Planner::Kind Planner::kind_of(const Expr& e) {
  const Expr& x = strip_parens(e);
  if (x.as<NumericLiteral>()) return Kind::kNumber;
  if (x.as<StringLiteral>()) return uuid_context_ ? Kind::kUnknown : Kind::kString;
  if (x.as<TimeLiteral>()) return Kind::kTime;
  if (const auto* id = x.as<Identifier>()) {
    if (spec_.binds.count(id->name()) || is_null_identifier(x)) return Kind::kUnknown;
    const auto& p = id->parts;
    if (p.size() == 2 && (lower(p[1]) == "region" || lower(p[1]) == "timespan")) return Kind::kUnknown;
    auto c = identifier(*id, x);
    if (c.time) return Kind::kTime;
    if (!c.type) return Kind::kUnknown;
    switch (*c.type) {
      case FieldType::kInt:
      case FieldType::kFloat: return Kind::kNumber;
      case FieldType::kString: return Kind::kString;
      case FieldType::kBool: return Kind::kBool;
      default: return Kind::kUnknown;
    }
  }
  if (const auto* u = x.as<UnaryOp>(); u && u->op != UnaryOperator::kNot) return Kind::kNumber;
  if (const auto* b = x.as<BinaryOp>()) {
    switch (b->op) {
      case BinaryOperator::kAdd:
      case BinaryOperator::kSub:
      case BinaryOperator::kMul:
      case BinaryOperator::kDiv:
      case BinaryOperator::kMod:
        for (const Expr* operand : {b->lhs.get(), b->rhs.get()}) {
          Kind k = kind_of(*operand);
          if (k != Kind::kUnknown && k != Kind::kNumber)
            fail(*operand, fmt::format("arithmetic needs numbers; {} is {}", brief(*operand), kind_name(k)));
        }
        return Kind::kNumber;
      default: return Kind::kBool;
    }
  }
  return Kind::kUnknown;
}

std::string Planner::compare(const BinaryOp& b, const char* op) {
  UuidContext uuids(*this, is_dataset_id(*b.lhs) || is_dataset_id(*b.rhs));
  Kind lk = kind_of(*b.lhs), rk = kind_of(*b.rhs);
  check_comparable(*b.lhs, lk, *b.rhs, rk);
  BindKindScope bind_kind(*this, lk != Kind::kUnknown ? lk : rk);
  auto is_time_column = [&](const Expr& x) {
    const auto* id = strip_parens(x).as<Identifier>();
    if (!id || spec_.binds.count(id->name())) return false;
    const auto& p = id->parts;
    if (p.size() == 3) return true;
    return dataset_ && ((p.size() == 1 && p[0] == "ingest_date") || (p.size() == 2 && p[1] == "ingest_date"));
  };
  bool time = is_time_column(*b.lhs) || is_time_column(*b.rhs);
  std::string lhs = value(*b.lhs, time);
  std::string rhs = value(*b.rhs, time);
  return lhs + " " + op + " " + rhs;
}

// A tree of OR: its terms (through parentheses) compiled one by one, then the equalities
// of one column with a literal merged into `column IN (…)`. Users write long chains such
// as `visit = 1 OR visit = 2 OR …` where they could have written IN; SQLite analyses the
// terms of an OR pairwise (20,000 take seconds) but an IN list at once.
std::string Planner::disjunction(const Expr& e) {
  std::vector<const Expr*> terms;
  for (std::vector<const Expr*> stack{&e}; !stack.empty();) {
    const Expr& x = strip_parens(*stack.back());
    stack.pop_back();
    if (const auto* b = x.as<BinaryOp>(); b && b->op == BinaryOperator::kOr) {
      stack.push_back(b->rhs.get());
      stack.push_back(b->lhs.get());
    } else {
      terms.push_back(&x);
    }
  }
  struct Piece {
    std::string sql;
    Params params;
    std::string column;  // for `column = ?`: the column, whose later equalities join this piece
  };
  std::vector<Piece> pieces;
  std::unordered_map<std::string, std::size_t> piece_of_column;
  for (const Expr* term : terms) {
    const std::size_t before = params_.size();
    std::string sql = predicate(*term);
    Params own(params_.begin() + static_cast<std::ptrdiff_t>(before), params_.end());
    params_.resize(before);
    const auto* b = term->as<BinaryOp>();
    constexpr std::string_view kEqualsParameter = " = ?";
    const bool column_equals_literal =
        b && b->op == BinaryOperator::kEq && strip_parens(*b->lhs).as<Identifier>() &&
        (strip_parens(*b->rhs).as<NumericLiteral>() || strip_parens(*b->rhs).as<StringLiteral>()) &&
        own.size() == 1 && sql.ends_with(kEqualsParameter) && std::count(sql.begin(), sql.end(), '?') == 1;
    if (!column_equals_literal) {
      pieces.push_back({std::move(sql), std::move(own), {}});
      continue;
    }
    std::string column = sql.substr(0, sql.size() - kEqualsParameter.size());
    if (auto it = piece_of_column.find(column); it != piece_of_column.end()) {
      pieces[it->second].params.push_back(std::move(own.front()));
      continue;
    }
    piece_of_column.emplace(column, pieces.size());
    pieces.push_back({std::move(sql), std::move(own), std::move(column)});
  }
  std::vector<std::string> sql;
  sql.reserve(pieces.size());
  for (auto& piece : pieces) {
    if (!piece.column.empty() && piece.params.size() > 1)
      sql.push_back(fmt::format("{} IN ({})", piece.column,
                                fmt::join(std::vector<std::string_view>(piece.params.size(), "?"), ", ")));
    else
      sql.push_back(std::move(piece.sql));
    params_.insert(params_.end(), std::make_move_iterator(piece.params.begin()),
                   std::make_move_iterator(piece.params.end()));
  }
  return "(" + balanced_join(sql, " OR ") + ")";
}

std::string Planner::is_in(const IsIn& in) {
  UuidContext uuids(*this, is_dataset_id(*in.lhs));
  Kind lk = kind_of(*in.lhs);
  for (const auto& item : in.items) {
    if (item.as<RangeLiteral>()) {
      if (lk != Kind::kUnknown && lk != Kind::kNumber)
        fail(item, fmt::format("type mismatch: {} is {}, a range holds numbers", brief(*in.lhs), kind_name(lk)));
      continue;
    }
    check_comparable(*in.lhs, lk, item, kind_of(item));
  }
  BindKindScope bind_kind(*this, lk);
  std::string lhs = value(*in.lhs);
  std::vector<std::string> alternatives, singles;
  for (const auto& item : in.items) {
    if (const auto* r = item.as<RangeLiteral>()) {
      if (r->stop < r->start) continue;  // an empty range
      params_.emplace_back(r->start);
      params_.emplace_back(r->stop);
      std::string cond = fmt::format("({} BETWEEN ? AND ?", lhs);
      if (r->step() > 1) {
        params_.emplace_back(r->start);
        params_.emplace_back(r->step());
        cond += fmt::format(" AND ({} - ?) % ? = 0", lhs);
      }
      alternatives.push_back(cond + ")");
    } else if (const auto* b = item.as<Bind>(); b && spec_.binds.count(b->name)) {
      const std::string& text = spec_.binds.at(b->name);
      for (std::size_t start = 0; start <= text.size();) {
        auto comma = text.find(',', start);
        std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        params_.push_back(typed_bind(*b, part, item));
        singles.emplace_back("?");
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      singles.push_back(value(item));
    }
  }
  if (!singles.empty()) alternatives.push_back(fmt::format("{} IN ({})", lhs, fmt::join(singles, ", ")));
  std::string cond = alternatives.empty() ? "1 = 0" : fmt::format("({})", balanced_join(alternatives, " OR "));
  return in.negated ? "NOT " + cond : cond;
}

std::string Planner::glob(const GlobCall& g, const Expr& at) {
  const auto* id = strip_parens(*g.column).as<Identifier>();
  if (!id) fail(at, "GLOB's first argument must be a string column");
  auto c = identifier(*id, *g.column);
  if (c.type != FieldType::kString)
    fail(*g.column, fmt::format("GLOB's first argument must be a string column; '{}' is not", id->name()));
  std::string pattern;
  if (const auto* s = g.pattern->as<StringLiteral>()) pattern = s->value;
  else if (const auto* b = g.pattern->as<Bind>()) pattern = bind_text(*b, *g.pattern);
  else fail(*g.pattern, "GLOB's pattern must be a string or a bind");
  // Rubin's GLOB: * and ? are wildcards, \* and \? literal, brackets literal.
  bool sqlite = reg_.db().dialect() == registry::Dialect::kSqlite;
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char ch = pattern[i];
    if (ch == '\\' && i + 1 < pattern.size() && (pattern[i + 1] == '*' || pattern[i + 1] == '?')) {
      char lit = pattern[++i];
      out += sqlite ? std::string("[") + lit + "]" : std::string(1, lit);
    } else if (ch == '*') {
      out += sqlite ? "*" : "%";
    } else if (ch == '?') {
      out += sqlite ? "?" : "_";
    } else if (sqlite && ch == '[') {
      out += "[[]";
    } else if (!sqlite && (ch == '%' || ch == '_' || ch == '\\')) {
      out += std::string("\\") + ch;
    } else {
      out += ch;
    }
  }
  params_.emplace_back(out);
  return sqlite ? c.sql + " GLOB ?" : c.sql + " LIKE ?";
}

void Planner::compile_where() {
  for (const Expr* c : conjuncts()) {
    const auto* b = c->as<BinaryOp>();
    if (b && b->op == BinaryOperator::kOverlaps &&
        (is_region_identifier(*b->lhs) || is_region_identifier(*b->rhs) || is_region_literal(*b->lhs) ||
         is_region_literal(*b->rhs))) {
      spatial_conjunct(*b, *c);
      continue;
    }
    params_.clear();
    std::string sql = predicate(*c);
    where_.push_back({sql, params_});
  }
}

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

void Planner::plan() {
  // 1. Dimensions.
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
    Identifier id;
    for (std::size_t start = 0;;) {
      auto dot = text.find('.', start);
      id.parts.push_back(text.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    collect_dimensions(u_, id, spec_.binds, dataset_name, names);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  group_ = u_.group(names);

  // 2. Sources: the dataset's tags table, then element tables, most specific first.
  if (dataset_) {
    for (const auto& d : dataset_->dimensions.required()) column_[d] = "t." + quote(d);
  }
  // The dataset FROM item is added in step 6 but must come first: reserve its slot.
  if (dataset_) from_.push_back({"", {}});
  const auto& required = group_.required();
  for (auto it = required.rbegin(); it != required.rend(); ++it) {
    const auto& d = *it;
    if (column_.count(d) || u_.get(d).is_skypix()) continue;
    dimension(d, nullptr);
  }

  // 3. Relationship tables.
  for (const auto* e : u_.elements()) {
    if (!e->always_join() || !e->has_table() || joined_.count(e->name())) continue;
    if (std::all_of(e->required().begin(), e->required().end(), [&](const auto& d) { return group_.contains(d); }))
      join(e->name());
  }

  // 4. Spatial: the expression's spatial terms, sky pixel dimensions, and a join between
  // two spatial families present in the query.
  std::vector<std::string> family_elements;
  for (const auto& family : kSpatialFamilies)
    for (const auto& name : family) {
      const auto* e = u_.find(name);
      if (!e || !e->has_table()) continue;
      if (std::all_of(e->required().begin(), e->required().end(), [&](const auto& d) { return group_.contains(d); })) {
        family_elements.push_back(name);
        break;
      }
    }
  // Sky pixel dimensions first, so the expression can constrain them (htm7 = 253954).
  for (const auto& s : group_.required()) {
    const auto& e = u_.get(s);
    if (!e.is_skypix() || column_.count(s)) continue;  // a dataset's pixel column is an ordinary column
    if (e.skypix_system() != "htm")
      throw UnsupportedError(fmt::format("'{}': only HTM sky pixelizations can be queried so far", s));
    RegionOperand pixel{RegionOperand::Kind::kPixel, 0, e.skypix_level(), nullptr};
    auto given = spec_.data_id.find(s);
    if (given != spec_.data_id.end()) {
      auto v = std::get<std::int64_t>(dimensions::conform_value(e, given->second));
      if (sphere::HtmPixelization::level_of(static_cast<std::uint64_t>(v)) != e.skypix_level())
        throw InvalidQueryError(fmt::format("{}={} is not a level-{} HTM pixel", s, v, e.skypix_level()));
      column_[s] = std::to_string(v);  // validated integer
      constant_skypix_.insert(s);
      if (!family_elements.empty()) {
        auto triangle = std::make_shared<sphere::ConvexPolygon>(sphere::HtmPixelization::triangle(static_cast<std::uint64_t>(v)));
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
    spatial_tests_.push_back({region_column(family_elements.front()), pixel});
  }
  compile_where();
  if (family_elements.size() == 2) {
    auto key = std::make_pair(std::min(family_elements[0], family_elements[1]), std::max(family_elements[0], family_elements[1]));
    if (!spatially_joined_.count(key)) spatial_join(family_elements[0], family_elements[1]);
  }

  // 5. The data ID.
  for (const auto& [k, v] : spec_.data_id) {
    if (constant_skypix_.count(k)) continue;
    std::string col = dimension(k, nullptr);
    auto conformed = dimensions::conform_value(u_.get(k), v);
    SqlValue param = std::holds_alternative<std::int64_t>(conformed) ? SqlValue(std::get<std::int64_t>(conformed))
                                                                     : SqlValue(std::get<std::string>(conformed));
    where_.push_back({col + " = ?", {param}});
  }

  // 6. The dataset search.
  if (dataset_) {
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
    searched_ = reg_.flatten(collection_names);
    std::vector<std::int64_t> plain, calib;
    for (const auto& c : searched_) (c.type == registry::CollectionType::kCalibration ? calib : plain).push_back(c.id);
    std::optional<std::string> calibs_table;
    if (dataset_->is_calibration && !calib.empty()) calibs_table = reg_.calibs_table(*dataset_);
    std::string temporal;
    for (const auto& name : kTemporalElements)
      if (group_.contains(name)) {
        temporal = name;
        break;
      }
    // A find-first search reads CALIBRATION collections only for a time: the query's
    // exposure/visit or a constraint on the datasets' validity ranges.
    bool use_calibs = calibs_table && (!temporal.empty() || !find_first_ || dataset_timespan_);
    if (calibs_table && !use_calibs)
      for (const auto& c : searched_)
        if (c.type == registry::CollectionType::kCalibration) skipped_calibrations_.push_back(c.name);
    auto type_id = reg_.dataset_type_id(dataset_->parent_name());
    std::vector<std::string> dims;
    for (const auto& d : dataset_->dimensions.required()) dims.push_back(quote(d));
    std::string dim_list = dims.empty() ? "" : ", " + fmt::format("{}", fmt::join(dims, ", "));
    auto in_list = [](const std::vector<std::int64_t>& ids, Params& params) {
      for (auto id : ids) params.emplace_back(id);
      return fmt::format("({})", fmt::join(std::vector<std::string>(ids.size(), "?"), ", "));
    };
    Params params;
    std::string source;
    if (!use_calibs && !dataset_timespan_) {
      params.emplace_back(type_id);
      std::string ids = plain.empty() ? "(NULL)" : in_list(plain, params);
      source = fmt::format("FROM {} t", quote(reg_.tags_table(*dataset_)));
      where_.insert(where_.begin(), {fmt::format("t.dataset_type_id = ? AND t.collection_id IN {}", ids), params});
      params.clear();
    } else {
      std::string parts;
      if (!plain.empty() || !use_calibs) {
        params.emplace_back(type_id);
        std::string ids = in_list(plain, params);
        parts = fmt::format("SELECT dataset_id, collection_id{}, CAST(NULL AS BIGINT) AS timespan_begin, "
                            "CAST(NULL AS BIGINT) AS timespan_end FROM {} "
                            "WHERE dataset_type_id = ? AND collection_id IN {}",
                            dim_list, quote(reg_.tags_table(*dataset_)), plain.empty() ? "(NULL)" : ids);
      }
      if (use_calibs) {
        params.emplace_back(type_id);
        std::string ids = in_list(calib, params);
        parts += fmt::format("{}SELECT dataset_id, collection_id{}, timespan_begin, timespan_end FROM {} "
                             "WHERE dataset_type_id = ? AND collection_id IN {}",
                             parts.empty() ? "" : " UNION ALL ", dim_list, quote(*calibs_table), ids);
      }
      source = fmt::format("FROM ({}) t", parts);
      if (!temporal.empty()) {
        std::string alias = join(temporal);
        where_.push_back({fmt::format("(t.timespan_begin IS NULL OR (t.timespan_begin < {0}.\"timespan_end\" AND "
                                      "t.timespan_end > {0}.\"timespan_begin\"))", alias), {}});
      }
    }
    from_[0] = {source, std::move(params)};
    from_.push_back({"JOIN dataset d ON d.dataset_id = t.dataset_id", {}});
    from_.push_back({"JOIN collection r ON r.collection_id = d.run_id", {}});
  }

  // Selected columns: required dimensions first (in group order), then the rest.
  for (const auto& d : group_.required()) dim_columns_.push_back(select(dimension(d, nullptr)));
  if (dataset_) {
    dataset_id_column_ = select("t.dataset_id");
    collection_column_ = select("t.collection_id");
    run_column_ = select("r.name");
    needs_dedupe_ = group_.required() != dataset_->dimensions.required();
    // A dataset dimension the query's other dimensions imply (a flat's physical_filter when the
    // query has the exposure) is not among the group's required columns: read it from the dataset.
    for (const auto& d : dataset_->dimensions.required())
      if (std::find(group_.required().begin(), group_.required().end(), d) == group_.required().end())
        dataset_implied_columns_.emplace_back(d, select(column_.at(d)));
  }
  if (!spec_.records_of.empty()) {
    const auto& e = u_.get(spec_.records_of);
    if (e.has_table()) {
      std::string alias = join(e.name());
      record_start_ = select_.size();
      for (const auto& f : e.record_fields())
        for (const auto& c : registry::field_columns(f)) select_.push_back(alias + "." + quote(c));
    }
    if (e.name() == "band") band_column_ = select(dimension("band", nullptr));
    std::vector<std::string> own = e.required();
    if (e.is_dimension() && std::find(own.begin(), own.end(), e.name()) == own.end()) own.push_back(e.name());
    needs_dedupe_ = needs_dedupe_ || group_.required().size() != own.size();
  } else if (!spec_.dimensions.empty()) {
    // A data-ID query: one row per data ID of the dimensions asked for, however many
    // datasets, collections or extra dimensions (a dataset type's, a spatial join's) match.
    const auto asked = u_.group(spec_.dimensions).required();
    for (std::size_t i = 0; i < group_.required().size(); ++i)
      if (std::find(asked.begin(), asked.end(), group_.required()[i]) != asked.end()) data_id_key_columns_.push_back(i);
    needs_dedupe_ = dataset_.has_value() || asked.size() != group_.required().size();
  }

  // 7. Order.
  for (const auto& item : spec_.order_by) {
    bool descending = !item.empty() && item[0] == '-';
    std::string text = descending ? item.substr(1) : item;
    if (text.empty()) throw InvalidQueryError("an empty --order-by item; give a field, e.g. visit or -exposure.day_obs");
    Identifier id;
    for (std::size_t start = 0;;) {
      auto dot = text.find('.', start);
      id.parts.push_back(text.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
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
    select(c.sql);
    order_.push_back({c.sql, descending, c.type == FieldType::kString});
  }
  for (const auto& d : group_.required())
    order_.push_back({dimension(d, nullptr), false, u_.get(d).keys()[0].type == FieldType::kString});
  if (dataset_) order_.push_back({"t.collection_id", false, false});
}

registry::ResultSet Planner::execute(bool push_limit) {
  if (from_.empty()) throw InvalidQueryError("nothing to query: give dimensions, a dataset type or an element");
  bool postgres = reg_.db().dialect() == registry::Dialect::kPostgres;
  // PostgreSQL sorts text by bytes only with COLLATE "C", and a SELECT DISTINCT may only be
  // ordered by expressions it selects: select the collated ones too (same values, so the
  // rows stay as distinct as they were).
  if (postgres && distinct_)
    for (const auto& o : order_)
      if (o.text) select(o.sql + " COLLATE \"C\"");
  std::string sql = fmt::format("SELECT {}{}", distinct_ ? "DISTINCT " : "", fmt::join(select_, ", "));
  Params params;
  for (const auto& f : from_) {
    sql += " " + f.sql;
    params.insert(params.end(), f.params.begin(), f.params.end());
  }
  if (!where_.empty()) {
    std::vector<std::string> conditions;
    for (const auto& w : where_) {
      conditions.push_back("(" + w.sql + ")");
      params.insert(params.end(), w.params.begin(), w.params.end());
    }
    sql += fmt::format(" WHERE {}", balanced_join(conditions, " AND "));
  }
  std::vector<std::string> order;
  for (const auto& o : order_)  // text sorts by bytes on every backend
    order.push_back(o.sql + (o.text && postgres ? " COLLATE \"C\"" : "") + (o.descending ? " DESC" : ""));
  sql += fmt::format(" ORDER BY {}", fmt::join(order, ", "));
  if (push_limit && spec_.limit > 0) {
    sql += " LIMIT ?";
    params.emplace_back(spec_.limit + 1);
    if (spec_.offset > 0) {
      sql += " OFFSET ?";
      params.emplace_back(spec_.offset);
    }
  } else if (push_limit && spec_.offset > 0) {
    sql += postgres ? " OFFSET ?" : " LIMIT -1 OFFSET ?";
    params.emplace_back(spec_.offset);
  }
  return reg_.db().query(sql, params);
}

std::vector<ResultRow> Planner::finish(const registry::ResultSet& result, bool* more, std::size_t* candidates) {
  *candidates = result.rows.size();
  // Exact spatial tests, with decoded regions cached by their bytes.
  std::unordered_map<std::string, std::shared_ptr<const sphere::Region>> regions;
  auto decode = [&](const SqlValue& v) -> std::shared_ptr<const sphere::Region> {
    const auto* blob = std::get_if<registry::Blob>(&v);
    if (!blob || blob->bytes.empty()) return nullptr;
    std::string key(blob->bytes.begin(), blob->bytes.end());
    auto it = regions.find(key);
    if (it == regions.end())
      it = regions.emplace(key, std::shared_ptr<const sphere::Region>(sphere::Region::decode(blob->bytes))).first;
    return it->second;
  };
  auto operand = [&](const RegionOperand& o, const std::vector<SqlValue>& row) -> std::shared_ptr<const sphere::Region> {
    switch (o.kind) {
      case RegionOperand::Kind::kConstant: return o.constant;
      case RegionOperand::Kind::kColumn: return decode(row[o.column]);
      case RegionOperand::Kind::kPixel:
        return std::make_shared<sphere::ConvexPolygon>(
            sphere::HtmPixelization::triangle(static_cast<std::uint64_t>(registry::as_int(row[o.column]))));
    }
    return nullptr;
  };
  std::vector<const std::vector<SqlValue>*> kept;
  for (const auto& row : result.rows) {
    bool keep = true;
    for (const auto& t : spatial_tests_) {
      auto a = operand(t.a, row), b = operand(t.b, row);
      if (!a || !b) {
        keep = false;  // a record without a region relates to nothing
        break;
      }
      auto o = a->overlaps(*b);
      if (o && !*o) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push_back(&row);
  }

  // Find-first: per data ID of the query, the dataset of the earliest collection.
  if (find_first_) {
    std::map<std::int64_t, std::size_t> rank;
    for (std::size_t i = 0; i < searched_.size(); ++i) rank.emplace(searched_[i].id, i);
    std::map<std::vector<std::string>, std::size_t> best;  // key → index in kept
    std::vector<std::vector<std::string>> keys(kept.size());
    std::vector<std::size_t> first_seen;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      for (auto c : dim_columns_) {
        const auto& v = (*kept[i])[c];
        keys[i].push_back(std::holds_alternative<std::int64_t>(v) ? std::to_string(std::get<std::int64_t>(v)) : registry::as_string(v));
      }
      auto it = best.find(keys[i]);
      std::size_t r = rank.at(registry::as_int((*kept[i])[collection_column_]));
      if (it == best.end()) {
        best.emplace(keys[i], i);
        first_seen.push_back(i);
      } else if (r < rank.at(registry::as_int((*kept[it->second])[collection_column_]))) {
        it->second = i;
      }
    }
    for (std::size_t i = 0; i < kept.size(); ++i) {
      std::size_t w = best.at(keys[i]);
      if (w == i) continue;
      if (rank.at(registry::as_int((*kept[i])[collection_column_])) == rank.at(registry::as_int((*kept[w])[collection_column_])) &&
          !(reg_.db().uuid_from((*kept[i])[dataset_id_column_]) == reg_.db().uuid_from((*kept[w])[dataset_id_column_])))
        throw ConflictError(fmt::format("more than one '{}' dataset matches {} in collection '{}' (overlapping "
                                        "calibration validity ranges?); narrow the query",
                                        dataset_->name, fmt::join(keys[i], ", "),
                                        searched_[rank.at(registry::as_int((*kept[i])[collection_column_]))].name));
    }
    std::vector<const std::vector<SqlValue>*> winners;
    for (auto i : first_seen) winners.push_back(kept[best.at(keys[i])]);
    kept = std::move(winners);
  }

  // Build rows, merging duplicates of the same dataset / record.
  std::vector<ResultRow> out;
  std::set<std::string> seen;
  registry::Registry::RecordCache cache;
  const DimensionElement* e_records = spec_.records_of.empty() ? nullptr : &u_.get(spec_.records_of);
  std::int64_t skipped = 0;
  bool pushed = limit_pushable();
  for (const auto* row : kept) {
    ResultRow r;
    const auto& req = group_.required();
    for (std::size_t i = 0; i < req.size(); ++i) r.data_id[req[i]] = registry::data_id_value_from_sql((*row)[dim_columns_[i]]);
    std::string key;
    if (dataset_) {
      Uuid id = reg_.db().uuid_from((*row)[dataset_id_column_]);
      key = id.str() + "/" + std::to_string(registry::as_int((*row)[collection_column_]));
      registry::DatasetRef ref;
      ref.id = id;
      ref.dataset_type = dataset_->name;
      ref.run = registry::as_string((*row)[run_column_]);
      for (const auto& d : dataset_->dimensions.required())
        if (auto it = r.data_id.find(d); it != r.data_id.end()) ref.data_id[d] = it->second;
      for (const auto& [d, column] : dataset_implied_columns_)
        ref.data_id[d] = registry::data_id_value_from_sql((*row)[column]);
      r.dataset = std::move(ref);
    }
    if (e_records) {
      std::vector<dimensions::FieldValue> values;
      if (e_records->has_table()) {
        std::size_t column = record_start_;
        for (const auto& f : e_records->record_fields()) values.push_back(registry::field_from_sql(f, *row, column));
      } else if (e_records->name() == "band") {
        values.emplace_back(registry::as_string((*row)[band_column_]));
      } else {  // a sky pixel: its id
        values.emplace_back(std::get<std::int64_t>(r.data_id.at(e_records->name())));
        for (std::size_t i = 1; i < e_records->record_fields().size(); ++i) values.emplace_back(std::monostate{});
      }
      r.record.emplace(*e_records, std::move(values));
      key = dimensions::format_data_id(r.record->data_id(), e_records->required());
    } else if (!data_id_key_columns_.empty()) {
      key.clear();
      for (auto i : data_id_key_columns_) key += dimensions::to_string(r.data_id.at(req[i])) + "\x1f";
    }
    if (needs_dedupe_ && !key.empty() && !seen.insert(key).second) continue;
    if (!pushed && skipped < spec_.offset) {
      ++skipped;
      continue;
    }
    if (spec_.limit > 0 && static_cast<std::int64_t>(out.size()) == spec_.limit) {
      *more = true;
      break;
    }
    out.push_back(std::move(r));
  }
  // Implied dimensions, from records read a few queries at a time rather than one per row.
  if (!group_.implied().empty() || (dataset_ && !dataset_->dimensions.implied().empty())) {
    // The dataset's dimensions are among the query's: their records are read here too.
    std::vector<registry::DataId> ids;
    for (const auto& r : out) ids.push_back(r.data_id);
    reg_.prefetch_records(ids, group_, cache);
    for (auto& r : out) {
      try {
        r.data_id = reg_.expand_data_id(r.data_id, group_, cache);
      } catch (const Error&) {
        // Sky pixel dimensions and the like have no records to expand from.
      }
      if (r.dataset && !dataset_->dimensions.implied().empty()) {
        try {
          r.dataset->data_id = reg_.expand_data_id(r.dataset->data_id, dataset_->dimensions, cache);
        } catch (const Error&) {
        }
      }
    }
  }
  return out;
}

// ---- explanations of empty results ------------------------------------------------------

// A constraint quoted in an explanation, cut to a readable length.
std::string shortened(const std::string& text) {
  return text.size() <= 200 ? text : text.substr(0, 197) + "...";
}

std::string populate_hint(const std::string& element) {
  static const std::map<std::string, std::string> kHints{
      {"visit", "run 'butler define-visits REPO INSTRUMENT'"},
      {"visit_detector_region", "run 'butler define-visits REPO INSTRUMENT'"},
      {"visit_definition", "run 'butler define-visits REPO INSTRUMENT'"},
      {"exposure", "ingest raws with 'butler ingest-raws'"},
      {"group", "ingest raws with 'butler ingest-raws'"},
      {"day_obs", "ingest raws with 'butler ingest-raws'"},
      {"tract", "register a skymap with 'butler register-skymap'"},
      {"patch", "register a skymap with 'butler register-skymap'"},
      {"skymap", "register a skymap with 'butler register-skymap'"},
      {"instrument", "register an instrument with 'butler register-instrument'"},
      {"detector", "register an instrument with 'butler register-instrument'"},
      {"physical_filter", "register an instrument with 'butler register-instrument'"},
  };
  auto it = kHints.find(element);
  return it == kHints.end() ? "" : "; " + it->second;
}

QueryResult run_query_impl(registry::Registry& reg, const QuerySpec& spec, bool explain);

std::vector<std::string> explain_empty(registry::Registry& reg, const QuerySpec& spec, Planner& planner,
                                       std::size_t candidates) {
  std::vector<std::string> out;
  // Collections without the dataset type.
  if (planner.dataset_) {
    const auto& type = planner.dataset_->parent_name();
    if (planner.searched_.empty()) {
      out.push_back(fmt::format("no collection matches {}", fmt::join(spec.datasets->collections, ", ")));
      return out;
    }
    std::vector<std::string> with_type, without;
    for (const auto& c : planner.searched_) {
      auto summary = reg.collection_summary(c.name);
      bool has = std::find(summary.dataset_types.begin(), summary.dataset_types.end(), type) != summary.dataset_types.end();
      (has ? with_type : without).push_back(c.name);
    }
    if (with_type.empty()) {
      out.push_back(fmt::format("no '{}' datasets in the searched collection{} {}", type,
                                planner.searched_.size() > 1 ? "s" : "", fmt::join(without, ", ")));
      return out;
    }
    if (!planner.skipped_calibrations_.empty())
      out.push_back(fmt::format("a find-first search reads the CALIBRATION collection{} {} only for a time: add an "
                                "exposure or visit to the query, or constrain {}.timespan OVERLAPS (…)",
                                planner.skipped_calibrations_.size() > 1 ? "s" : "",
                                fmt::join(planner.skipped_calibrations_, ", "), type));
  }
  // Dimensions without records.
  for (const auto& element : planner.joined_tables()) {
    auto rows = reg.db().query(fmt::format("SELECT 1 FROM {} LIMIT 1", quote(reg.dimension_table(element))));
    if (rows.empty()) out.push_back(fmt::format("there are no '{}' records in this repository{}", element, populate_hint(element)));
  }
  if (!out.empty()) return out;
  // Constraints that match nothing by themselves.
  std::size_t tried = 0;
  auto alone = [&](QuerySpec s) {
    s.limit = 1;
    s.offset = 0;
    s.order_by.clear();
    return run_query_impl(reg, s, false).rows.empty();
  };
  auto conjuncts = planner.conjuncts();
  if (conjuncts.size() + spec.data_id.size() > 1 || (planner.dataset_ && (!conjuncts.empty() || !spec.data_id.empty()))) {
    for (const Expr* c : conjuncts) {
      if (++tried > 8) break;
      QuerySpec s = spec;
      s.where = c->str();
      s.data_id.clear();
      if (!alone(s)) continue;
      if (planner.dataset_)  // with the dataset search: the constraint may match records, not datasets
        out.push_back(fmt::format("no '{}' dataset matches the constraint '{}' by itself", planner.dataset_->name,
                                  shortened(c->str())));
      else
        out.push_back(fmt::format("the constraint '{}' matches nothing by itself", shortened(c->str())));
    }
    for (const auto& [k, v] : spec.data_id) {
      if (++tried > 8) break;
      QuerySpec s = spec;
      s.where.clear();
      s.data_id = {{k, v}};
      if (alone(s))
        out.push_back(fmt::format("{}={} matches nothing by itself", k,
                                  std::holds_alternative<std::string>(v) ? std::get<std::string>(v)
                                                                         : std::to_string(std::get<std::int64_t>(v))));
    }
  } else if (conjuncts.size() == 1) {
    out.push_back(fmt::format("the constraint '{}' matches nothing", shortened(conjuncts[0]->str())));
  }
  if (out.empty() && planner.spatial_test_count() > 0 && candidates > 0)
    out.push_back(fmt::format("{} candidate row{} shared htm7 sky pixels with the regions involved, but none overlaps "
                              "exactly", candidates, candidates == 1 ? "" : "s"));
  if (out.empty() && (conjuncts.size() + spec.data_id.size()) > 1)
    out.emplace_back("each constraint matches something on its own, but not all of them together");
  return out;
}

QueryResult run_query_impl(registry::Registry& reg, const QuerySpec& spec, bool explain) {
  Planner planner(reg, spec);
  planner.plan();
  bool push = planner.limit_pushable();
  auto rows = planner.execute(push);
  QueryResult result;
  result.dimensions = planner.group();
  std::size_t candidates = 0;
  result.rows = planner.finish(rows, &result.more, &candidates);
  if (result.rows.empty() && explain) result.explanation = explain_empty(reg, spec, planner, candidates);
  return result;
}

}  // namespace

QueryResult run_query(registry::Registry& registry, const QuerySpec& spec) { return run_query_impl(registry, spec, true); }

std::vector<dimensions::DimensionRecord> query_dimension_records(registry::Registry& registry, const std::string& element,
                                                                 const std::string& where, const Binds& binds,
                                                                 const registry::DataId& data_id,
                                                                 const std::vector<std::string>& order_by) {
  QuerySpec spec;
  spec.records_of = element;
  spec.where = where;
  spec.binds = binds;
  spec.data_id = data_id;
  spec.order_by = order_by;
  auto result = run_query_impl(registry, spec, false);
  std::vector<dimensions::DimensionRecord> out;
  for (auto& r : result.rows) out.push_back(std::move(*r.record));
  return out;
}

}  // namespace majordome::query
