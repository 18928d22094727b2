// The binder: a where-expression's terms resolved against the universe and the query's
// dimensions, type-checked and compiled to SQL terms with bound parameters. Identifiers
// join the element tables they need (planner_relations.cpp); spatial conjuncts become
// relations plus exact post-filters; everything else becomes plan constraints.
#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/core/uuid.hpp"
#include "majordome/query/expr_time.hpp"
#include "majordome/sphere/region.hpp"
#include "majordome/sphere/region_parsing.hpp"
#include "planner.hpp"

namespace majordome::query::detail {

namespace {

using dimensions::FieldType;
using registry::Params;
using registry::SqlValue;

const char* kind_name(int k) {
  switch (k) {
    case 1: return "a number";
    case 2: return "a string";
    case 3: return "a time";
    case 4: return "a boolean";
    default: return "a value";
  }
}

// An operand as written, shortened for messages.
std::string brief(const Expr& e) {
  std::string text = strip_parens(e).str();
  return text.size() <= 40 ? text : text.substr(0, 37) + "...";
}

}  // namespace

Planner::Column Planner::identifier(const Identifier& id, const Expr& at) {
  const auto& parts = id.parts;
  if (parts.size() == 1) {
    const std::string& n = parts[0];
    if (u_.is_dimension(n)) return {dimension(n, &at), u_.get(n).keys()[0].type, false, false};
    if (dataset_) {
      if (n == "dataset_id") return {"t.dataset_id", std::nullopt, false, false};
      if (n == "run") {
      dataset_row_needed_ = true;
      return {"r.name", FieldType::kString, false, false};
    }
      if (n == "ingest_date") {
      dataset_row_needed_ = true;
      return {"d.ingest_date", FieldType::kInt, true, false};
    }
    }
    if (n == "timespan" && dataset_)
      fail(at, fmt::format("'timespan' (the validity range of the '{}' datasets) can only be used with OVERLAPS",
                           dataset_->name));
    if (n == "region" || n == "timespan")
      fail(at, fmt::format("'{}' needs the element it belongs to, e.g. visit.{}", n, n));
    std::vector<std::string> owners;
    for (const auto& name : plan_.dimensions.names()) {
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
    for (const auto& name : plan_.dimensions.names()) {
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
    if (parts.size() == 2 && parts[1] == "dataset_id") return {"t.dataset_id", std::nullopt, false, false};
    if (parts.size() == 2 && parts[1] == "run") {
      dataset_row_needed_ = true;
      return {"r.name", FieldType::kString, false, false};
    }
    if (parts.size() == 2 && parts[1] == "ingest_date") {
      dataset_row_needed_ = true;
      return {"d.ingest_date", FieldType::kInt, true, false};
    }
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

Planner::Column Planner::element_field(const std::string& element, const std::string& field, const Expr& at) {
  const auto& e = u_.get(element);
  bool in_query = plan_.dimensions.contains(element) ||
                  (!e.is_dimension() && std::all_of(e.required().begin(), e.required().end(),
                                                    [&](const auto& d) { return plan_.dimensions.contains(d); }));
  if (!in_query)
    fail(at, fmt::format("'{}.{}': '{}' is not part of this query (its dimensions are {})", element, field, element,
                         fmt::join(plan_.dimensions.names(), ", ")));
  if (e.is_dimension() && (field == e.keys()[0].name || field == "id" || field == element))
    return {dimension(element, &at), e.keys()[0].type, false, false};
  if (u_.is_dimension(field) && std::find(e.required().begin(), e.required().end(), field) != e.required().end())
    return {dimension(field, &at), u_.get(field).keys()[0].type, false, false};
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
  if (element == "band") return {dimension("band", &at), FieldType::kString, false, false};
  // Required and implied dimensions and alternate keys are NOT NULL in the schema.
  const bool key_or_dimension = *idx < e.required().size() + e.direct_implied().size() ||
                                std::any_of(e.keys().begin(), e.keys().end(), [&](const auto& k) { return k.name == field; });
  const auto& spec = e.record_fields()[*idx];
  return {join(element) + "." + quote(field), spec.type, false, !key_or_dimension && spec.nullable};
}

void Planner::check_comparable(const Expr& lhs, Kind lk, const Expr& rhs, Kind rk) {
  if (lk == Kind::kUnknown || rk == Kind::kUnknown || lk == rk) return;
  fail(rhs, fmt::format("type mismatch: {} is {}, {} is {}", brief(lhs), kind_name(static_cast<int>(lk)), brief(rhs), kind_name(static_cast<int>(rk))));
}

SqlValue Planner::typed_bind(const Bind& b, const std::string& text, const Expr& at) {
  if (bind_kind_ == Kind::kString && !uuid_context_) return text;
  SqlValue v = text_value(text);
  if (bind_kind_ == Kind::kNumber && std::holds_alternative<std::string>(v))
    fail(at, fmt::format(":{} is '{}', not a number", b.name, text));
  return v;
}

SqlValue Planner::text_value(const std::string& text) const {
  if (uuid_context_)
    if (auto u = Uuid::parse(text)) return registry::sql_database(reg_).uuid_value(*u);
  return bind_value(text);
}

bool Planner::is_dataset_id(const Expr& e) const {
  const auto* id = strip_parens(e).as<Identifier>();
  if (!id || !dataset_ || spec_.binds.count(id->name())) return false;
  const auto& p = id->parts;
  return (p.size() == 1 && p[0] == "dataset_id") || (p.size() == 2 && p[0] == dataset_->name && p[1] == "dataset_id");
}

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
    params_.push_back(registry::sql_database(reg_).uuid_value(u->value));
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
            fail(*operand, fmt::format("arithmetic needs numbers; {} is {}", brief(*operand), kind_name(static_cast<int>(k))));
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
        fail(item, fmt::format("type mismatch: {} is {}, a range holds numbers", brief(*in.lhs), kind_name(static_cast<int>(lk))));
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
  bool sqlite = registry::sql_database(reg_).dialect() == registry::Dialect::kSqlite;
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
  for (const Expr* c : conjunct_exprs()) {
    if (is_spatial_overlap(*c)) {
      spatial_conjunct(c->get<BinaryOp>());
      continue;
    }
    params_.clear();
    std::string sql = predicate(*c);
    const auto* b = c->as<BinaryOp>();
    const bool temporal = b && b->op == BinaryOperator::kOverlaps;
    plan_.constraints.push_back({temporal ? PlanConstraint::Kind::kTemporal : PlanConstraint::Kind::kExpression, sql,
                                 params_, c->str()});
  }
}

}  // namespace majordome::query::detail
