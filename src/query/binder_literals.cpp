// The binder's literal values: numbers, binds, region literals (POINT, CIRCLE, BOX, POLYGON,
// REGION) and times, and the timespan operands of a temporal OVERLAPS, which is exact in SQL.
#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/query/expr_time.hpp"
#include "majordome/sphere/region.hpp"
#include "majordome/sphere/region_parsing.hpp"
#include "planner.hpp"

namespace majordome::query::detail {

using registry::Params;

double Planner::number(const Expr& e) {
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

std::shared_ptr<const sphere::Region> Planner::region_literal(const Expr& e) {
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

const std::string& Planner::bind_text(const Bind& b, const Expr& at) {
  auto it = spec_.binds.find(b.name);
  if (it == spec_.binds.end()) fail(at, fmt::format("no value given for :{} (use --bind {}=VALUE)", b.name, b.name));
  return it->second;
}


std::int64_t Planner::time_value(const Expr& e) {
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

Planner::TimespanOperand Planner::timespan_operand(const Expr& e) {
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

std::string Planner::emit(const Bound& b, Params& params) {
  if (!b.column.empty() && b.or_value) {
    params.emplace_back(b.value);
    return "COALESCE(" + b.column + ", ?)";
  }
  if (!b.column.empty()) return b.column;
  params.emplace_back(b.value);
  return "?";
}

std::string Planner::temporal_overlap(const Expr& lhs, const Expr& rhs) {
  auto a = timespan_operand(lhs);
  auto b = timespan_operand(rhs);
  std::string s1 = emit(a.end, params_);
  std::string s2 = emit(b.begin, params_);
  std::string s3 = emit(b.end, params_);
  std::string s4 = emit(a.begin, params_);
  return fmt::format("({} > {} AND {} > {})", s1, s2, s3, s4);
}

}  // namespace majordome::query::detail
