// Binding of where-expressions to the registry's tables: identifiers resolve to columns of
// the dataset's tags table (alias t), its run (alias r) or dimension tables joined on
// demand (alias e_<element>); literals and binds become bound parameters.
#include "majordome/query/where.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/core/uuid.hpp"
#include "majordome/query/expression.hpp"

namespace majordome::query {

namespace {

using registry::Params;
using registry::SqlValue;

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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

// Where the query's dimensions live: a base table and the dimension group it carries.
class Scope {
 public:
  Scope(registry::Registry& reg, dimensions::DimensionGroup group, std::function<std::optional<std::string>(const std::string&)> base_column,
        std::string expression)
      : reg_(reg), u_(reg.universe()), group_(std::move(group)), base_column_(std::move(base_column)), text_(std::move(expression)) {}

  [[noreturn]] void fail(const Expr& at, const std::string& reason) const {
    throw ExpressionError(text_, at.pos, reason, "Invalid expression");
  }

  // SQL for the value of dimension `d`, joining element tables as needed.
  std::string dimension(const std::string& d, const Expr& at) {
    if (auto c = base_column_(d)) return *c;
    if (!group_.contains(d)) {
      std::string hint = u_.suggest(d);
      fail(at, fmt::format("'{}' is not a dimension of this query (its dimensions are {}){}", d,
                           fmt::join(group_.names(), ", "), hint.empty() || hint == d ? "" : "; did you mean '" + hint + "'?"));
    }
    // An implied dimension: read it from the table of an element that implies it.
    for (const auto& name : group_.names()) {
      const auto& e = u_.get(name);
      const auto& imp = e.direct_implied();
      if (e.has_table() && std::find(imp.begin(), imp.end(), d) != imp.end()) return join(name, at) + "." + quote(d);
    }
    fail(at, fmt::format("cannot relate dimension '{}' to this query", d));
  }

  // The alias of `element`'s table, joined on its required dimensions.
  std::string join(const std::string& element, const Expr& at) {
    std::string alias = "e_" + element;
    if (joined_.count(element)) return alias;
    const auto& e = u_.get(element);
    if (!e.has_table()) fail(at, fmt::format("'{}' has no records to join", element));
    std::vector<std::string> on;
    for (std::size_t i = 0; i < e.required().size(); ++i) {
      const auto& d = e.required()[i];
      std::string col = e.record_fields()[i].name;
      on.push_back(fmt::format("{}.{} = {}", alias, quote(col), dimension(d, at)));
    }
    joined_.insert(element);
    joins_.push_back(fmt::format("JOIN {} {} ON {}", quote(reg_.dimension_table(element)), alias, fmt::join(on, " AND ")));
    return alias;
  }

  // A column expression for an identifier, and its field type when known.
  std::pair<std::string, std::optional<dimensions::FieldType>> identifier(const Identifier& id, const Expr& at) {
    const auto& parts = id.parts;
    if (parts.size() == 1) {
      const std::string& n = parts[0];
      if (u_.is_dimension(n)) return {dimension(n, at), u_.get(n).keys()[0].type};
      if (dataset_fields_) {
        if (n == "dataset_id") return {"t.dataset_id", std::nullopt};
        if (n == "run") return {"r.name", dimensions::FieldType::kString};
        if (n == "ingest_date") return {"d.ingest_date", dimensions::FieldType::kInt};
      }
      // An unqualified metadata field: only when exactly one element of the query has it.
      std::vector<std::string> owners;
      for (const auto& name : group_.names()) {
        const auto& e = u_.get(name);
        if (!e.has_table()) continue;
        bool has = false;
        for (std::size_t k = 1; k < e.keys().size(); ++k) has = has || e.keys()[k].name == n;
        for (const auto& f : e.metadata()) has = has || f.name == n;
        if (has) owners.push_back(name);
      }
      if (owners.size() == 1) return element_field(owners[0], n, at);
      if (owners.size() > 1) fail(at, fmt::format("Ambiguous identifier '{}': it is a field of {}; qualify it (e.g. {}.{})", n,
                                                  fmt::join(owners, " and "), owners[0], n));
      // Suggest among the query's own fields first, then any dimension.
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
    if (parts.size() == 2 && dataset_fields_ && parts[0] == dataset_type_) {
      if (parts[1] == "dataset_id") return {"t.dataset_id", std::nullopt};
      if (parts[1] == "run") return {"r.name", dimensions::FieldType::kString};
      if (parts[1] == "ingest_date") return {"d.ingest_date", dimensions::FieldType::kInt};
      fail(at, fmt::format("Unrecognized identifier '{}': datasets have dataset_id, run and ingest_date", id.name()));
    }
    if (parts.size() == 2 && u_.find(parts[0])) return element_field(parts[0], parts[1], at);
    if (parts.size() >= 2 && u_.find(parts[0]) && (parts[1] == "timespan" || parts[1] == "region"))
      fail(at, fmt::format("'{}': timespan and region constraints come with majordome's spatial/temporal query engine", id.name()));
    std::string hint = u_.suggest(parts[0]);
    fail(at, fmt::format("Unrecognized identifier '{}'{}", id.name(), hint.empty() ? "" : "; did you mean '" + hint + ".…'?"));
  }

  std::pair<std::string, std::optional<dimensions::FieldType>> element_field(const std::string& element, const std::string& field,
                                                                             const Expr& at) {
    const auto& e = u_.get(element);
    if (!group_.contains(element) && !(e.is_dimension() ? false : std::all_of(e.required().begin(), e.required().end(), [&](const auto& d) { return group_.contains(d); })))
      fail(at, fmt::format("'{}.{}': '{}' is not part of this query (its dimensions are {})", element, field, element,
                           fmt::join(group_.names(), ", ")));
    if (e.is_dimension() && (field == e.keys()[0].name || field == "id" || field == element)) return {dimension(element, at), e.keys()[0].type};
    if (u_.is_dimension(field) && std::find(e.required().begin(), e.required().end(), field) != e.required().end())
      return {dimension(field, at), u_.get(field).keys()[0].type};
    if (field == "timespan" || field == "region")
      fail(at, fmt::format("'{}.{}': timespan and region constraints come with majordome's spatial/temporal query engine", element, field));
    auto idx = e.field_index(field);
    if (!idx) {
      std::vector<std::string> names;
      for (const auto& f : e.record_fields()) names.push_back(f.name);
      std::string hint = nearest(field, names);
      fail(at, fmt::format("Unrecognized identifier '{}.{}'{}: {} has fields {}", element, field,
                           hint.empty() ? "" : fmt::format(" (did you mean '{}.{}'?)", element, hint), element,
                           fmt::join(names, ", ")));
    }
    if (element == "band") return {dimension("band", at), dimensions::FieldType::kString};
    return {join(element, at) + "." + quote(field), e.record_fields()[*idx].type};
  }

  registry::Registry& reg_;
  const dimensions::Universe& u_;
  dimensions::DimensionGroup group_;
  std::function<std::optional<std::string>(const std::string&)> base_column_;
  std::string text_;
  std::set<std::string> joined_;
  std::vector<std::string> joins_;
  bool dataset_fields_ = false;
  std::string dataset_type_;
};

class Compiler {
 public:
  Compiler(Scope& scope, const Binds& binds) : scope_(scope), binds_(binds) {}

  std::string predicate(const Expr& e) {
    if (const auto* b = e.as<BinaryOp>()) {
      switch (b->op) {
        case BinaryOperator::kAnd:
        case BinaryOperator::kOr: {
          // Parameters are appended as SQL is produced: build left before right.
          std::string lhs = predicate(*b->lhs);
          std::string rhs = predicate(*b->rhs);
          return "(" + lhs + (b->op == BinaryOperator::kAnd ? " AND " : " OR ") + rhs + ")";
        }
        case BinaryOperator::kOverlaps:
          scope_.fail(e, "OVERLAPS (regions and timespans) comes with majordome's spatial/temporal query engine");
        case BinaryOperator::kEq:
        case BinaryOperator::kNe: {
          bool eq = b->op == BinaryOperator::kEq;
          if (is_null(*b->rhs)) return value(*b->lhs) + (eq ? " IS NULL" : " IS NOT NULL");
          if (is_null(*b->lhs)) return value(*b->rhs) + (eq ? " IS NULL" : " IS NOT NULL");
          return compare(*b, eq ? "=" : "<>");
        }
        case BinaryOperator::kLt: return compare(*b, "<");
        case BinaryOperator::kLe: return compare(*b, "<=");
        case BinaryOperator::kGt: return compare(*b, ">");
        case BinaryOperator::kGe: return compare(*b, ">=");
        default: scope_.fail(e, "an arithmetic expression is not a condition; compare it with something");
      }
    }
    if (const auto* u = e.as<UnaryOp>()) {
      if (u->op == UnaryOperator::kNot) return "NOT (" + predicate(*u->operand) + ")";
      scope_.fail(e, "a signed value is not a condition");
    }
    if (const auto* p = e.as<Parens>()) return predicate(*p->inner);
    if (const auto* in = e.as<IsIn>()) return is_in(*in, e);
    if (const auto* g = e.as<GlobCall>()) return glob(*g, e);
    if (const auto* id = e.as<Identifier>()) {
      auto [col, type] = scope_.identifier(*id, e);
      if (type != dimensions::FieldType::kBool) scope_.fail(e, fmt::format("'{}' is not a boolean field; compare it with a value", id->name()));
      return "(" + col + ")";
    }
    scope_.fail(e, fmt::format("a {} is not a condition", node_kind_name(e.kind())));
  }

  std::string value(const Expr& e) {
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
      if (auto it = binds_.find(id->name()); it != binds_.end()) {  // legacy bare-name binds
        params_.push_back(bind_value(it->second));
        return "?";
      }
      return scope_.identifier(*id, e).first;
    }
    if (const auto* b = e.as<Bind>()) {
      auto it = binds_.find(b->name);
      if (it == binds_.end()) scope_.fail(e, fmt::format("no value given for :{} (use --bind {}=VALUE)", b->name, b->name));
      if (it->second.find(',') != std::string::npos)
        scope_.fail(e, fmt::format(":{} holds a list; use it inside IN (…)", b->name));
      params_.push_back(text_value(it->second));
      return "?";
    }
    if (const auto* u = e.as<UuidCall>()) {
      params_.push_back(scope_.reg_.db().uuid_value(u->value));
      return "?";
    }
    if (const auto* p = e.as<Parens>()) return "(" + value(*p->inner) + ")";
    if (const auto* u = e.as<UnaryOp>()) {
      if (u->op == UnaryOperator::kMinus) return "(-" + value(*u->operand) + ")";
      if (u->op == UnaryOperator::kPlus) return value(*u->operand);
      scope_.fail(e, "NOT applies to conditions, not values");
    }
    if (const auto* b = e.as<BinaryOp>()) {
      static const std::map<BinaryOperator, const char*> kOps{{BinaryOperator::kAdd, "+"}, {BinaryOperator::kSub, "-"},
                                                              {BinaryOperator::kMul, "*"}, {BinaryOperator::kDiv, "/"},
                                                              {BinaryOperator::kMod, "%"}};
      auto op = kOps.find(b->op);
      if (op == kOps.end()) scope_.fail(e, "a condition is not a value here");
      std::string lhs = value(*b->lhs);
      std::string rhs = value(*b->rhs);
      return "(" + lhs + " " + op->second + " " + rhs + ")";
    }
    if (e.as<RangeLiteral>()) scope_.fail(e, "a range a..b is only allowed inside IN (…)");
    if (e.as<PointCall>() || e.as<CircleCall>() || e.as<BoxCall>() || e.as<PolygonCall>() || e.as<RegionCall>())
      scope_.fail(e, "regions come with majordome's spatial query engine");
    if (e.as<Tuple>()) scope_.fail(e, "timespan tuples come with majordome's temporal query engine");
    if (const auto* f = e.as<FunctionCall>()) scope_.fail(e, fmt::format("unknown function '{}'", f->name));
    scope_.fail(e, fmt::format("a {} cannot be used as a value here", node_kind_name(e.kind())));
  }

  Params params_;

 private:
  // Dataset IDs are stored in the database's UUID encoding (hex without dashes on SQLite), so
  // text compared with a dataset_id column is converted when it is a UUID.
  bool is_dataset_id(const Expr& e) const {
    const auto* id = e.as<Identifier>();
    if (!id || !scope_.dataset_fields_ || binds_.count(id->name())) return false;
    const auto& p = id->parts;
    return (p.size() == 1 && p[0] == "dataset_id") || (p.size() == 2 && p[0] == scope_.dataset_type_ && p[1] == "dataset_id");
  }
  SqlValue text_value(const std::string& text) const {
    if (uuid_context_)
      if (auto u = Uuid::parse(text)) return scope_.reg_.db().uuid_value(*u);
    return bind_value(text);
  }
  // While compiling the values compared with a dataset_id column.
  struct UuidContext {
    UuidContext(Compiler& c, bool on) : c_(c), saved_(c.uuid_context_) { c_.uuid_context_ = on; }
    ~UuidContext() { c_.uuid_context_ = saved_; }
    Compiler& c_;
    bool saved_;
  };

  static bool is_null(const Expr& e) {
    const auto* id = e.as<Identifier>();
    return id && id->parts.size() == 1 && lower(id->parts[0]) == "null";
  }

  std::string compare(const BinaryOp& b, const char* op) {
    UuidContext uuids(*this, is_dataset_id(*b.lhs) || is_dataset_id(*b.rhs));
    std::string lhs = value(*b.lhs);
    std::string rhs = value(*b.rhs);
    return lhs + " " + op + " " + rhs;
  }

  std::string is_in(const IsIn& in, const Expr& at) {
    UuidContext uuids(*this, is_dataset_id(*in.lhs));
    std::string lhs = value(*in.lhs);
    std::vector<std::string> alternatives, singles;
    for (const auto& item : in.items) {
      if (const auto* r = item.as<RangeLiteral>()) {
        if (r->stop < r->start) continue;  // empty range
        params_.emplace_back(r->start);
        params_.emplace_back(r->stop);
        std::string cond = fmt::format("({} BETWEEN ? AND ?", lhs);
        if (r->step() > 1) {
          params_.emplace_back(r->start);
          params_.emplace_back(r->step());
          cond += fmt::format(" AND ({} - ?) % ? = 0", lhs);
        }
        alternatives.push_back(cond + ")");
      } else if (const auto* b = item.as<Bind>(); b && binds_.count(b->name)) {
        std::string text = binds_.at(b->name);
        for (std::size_t start = 0; start <= text.size();) {
          auto comma = text.find(',', start);
          std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          params_.push_back(text_value(part));
          singles.emplace_back("?");
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      } else {
        singles.push_back(value(item));
      }
    }
    (void)at;
    if (!singles.empty()) alternatives.push_back(fmt::format("{} IN ({})", lhs, fmt::join(singles, ", ")));
    std::string cond = alternatives.empty() ? "1 = 0" : fmt::format("({})", fmt::join(alternatives, " OR "));
    return in.negated ? "NOT " + cond : cond;
  }

  std::string glob(const GlobCall& g, const Expr& at) {
    const auto* id = g.column->as<Identifier>();
    if (!id) scope_.fail(at, "GLOB's first argument must be a string column");
    auto [col, type] = scope_.identifier(*id, *g.column);
    if (type != dimensions::FieldType::kString)
      scope_.fail(*g.column, fmt::format("GLOB's first argument must be a string column; '{}' is not", id->name()));
    std::string pattern;
    if (const auto* s = g.pattern->as<StringLiteral>()) {
      pattern = s->value;
    } else if (const auto* b = g.pattern->as<Bind>()) {
      auto it = binds_.find(b->name);
      if (it == binds_.end()) scope_.fail(*g.pattern, fmt::format("no value given for :{}", b->name));
      pattern = it->second;
    } else {
      scope_.fail(*g.pattern, "GLOB's pattern must be a string or a bind");
    }
    // Rubin's GLOB: * and ? are wildcards, \* and \? are literal, brackets are literal.
    bool sqlite = scope_.reg_.db().dialect() == registry::Dialect::kSqlite;
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      char c = pattern[i];
      if (c == '\\' && i + 1 < pattern.size() && (pattern[i + 1] == '*' || pattern[i + 1] == '?')) {
        char lit = pattern[++i];
        out += sqlite ? std::string("[") + lit + "]" : std::string(1, lit);
      } else if (c == '*') {
        out += sqlite ? "*" : "%";
      } else if (c == '?') {
        out += sqlite ? "?" : "_";
      } else if (sqlite && c == '[') {
        out += "[[]";
      } else if (!sqlite && (c == '%' || c == '_' || c == '\\')) {
        out += std::string("\\") + c;
      } else {
        out += c;
      }
    }
    params_.emplace_back(out);
    return sqlite ? col + " GLOB ?" : col + " LIKE ?";
  }

  Scope& scope_;
  const Binds& binds_;
  bool uuid_context_ = false;
};

}  // namespace

void apply_where(registry::Registry& reg, const registry::DatasetType& type, const std::string& where, const Binds& binds,
                 registry::DatasetQuery& query) {
  auto tree = parse_expression(where);
  if (!tree) return;
  const auto& required = type.dimensions.required();
  Scope scope(reg, type.dimensions, [&](const std::string& d) -> std::optional<std::string> {
    if (std::find(required.begin(), required.end(), d) != required.end()) return "t." + quote(d);
    return std::nullopt;
  }, where);
  scope.dataset_fields_ = true;
  scope.dataset_type_ = type.name;
  Compiler compiler(scope, binds);
  std::string predicate = compiler.predicate(*tree);
  if (!query.sql_predicate.empty()) predicate = "(" + query.sql_predicate + ") AND " + predicate;
  query.sql_predicate = predicate;
  query.sql_params.insert(query.sql_params.end(), compiler.params_.begin(), compiler.params_.end());
  query.sql_joins.insert(query.sql_joins.end(), scope.joins_.begin(), scope.joins_.end());
}

std::vector<dimensions::DimensionRecord> query_dimension_records(registry::Registry& reg, const std::string& element,
                                                                 const std::string& where, const Binds& binds,
                                                                 const registry::DataId& data_id) {
  const auto& u = reg.universe();
  const auto& e = u.get(element);
  std::vector<std::string> names = e.required();
  for (const auto& i : e.direct_implied()) names.push_back(i);
  auto group = names.empty() ? dimensions::DimensionGroup() : u.group(names);
  std::string alias = "e_" + element;
  Scope scope(reg, group, [&](const std::string& d) -> std::optional<std::string> {
    if (element == "band" && d == "band") return alias + ".\"name\"";
    const auto& req = e.required();
    for (std::size_t i = 0; i < req.size(); ++i)
      if (req[i] == d) return alias + "." + quote(e.record_fields()[i].name);
    const auto& imp = e.direct_implied();
    if (std::find(imp.begin(), imp.end(), d) != imp.end()) return alias + "." + quote(d);
    return std::nullopt;
  }, where);
  scope.joined_.insert(element);
  Compiler compiler(scope, binds);
  std::vector<std::string> conditions;
  if (auto tree = parse_expression(where)) conditions.push_back(compiler.predicate(*tree));
  for (const auto& [k, v] : data_id) {
    Expr at{Identifier{{k}}, {}};
    conditions.push_back(scope.dimension(k, at) + " = ?");
    compiler.params_.push_back(std::holds_alternative<std::int64_t>(v) ? SqlValue(std::get<std::int64_t>(v))
                                                                       : SqlValue(std::get<std::string>(v)));
  }
  std::string predicate = conditions.empty() ? "" : fmt::format("{}", fmt::join(conditions, " AND "));
  return reg.query_records_sql(element, fmt::format("{}", fmt::join(scope.joins_, " ")), predicate, compiler.params_);
}

}  // namespace majordome::query
