#include <string>
#include <type_traits>

#include "majordome/query/expression.hpp"

namespace majordome::query {
namespace {

template <NodeKind K, class T>
constexpr bool kind_is = std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(K), Node>, T>;
static_assert(kind_is<NodeKind::kNumericLiteral, NumericLiteral> && kind_is<NodeKind::kStringLiteral, StringLiteral> &&
              kind_is<NodeKind::kTimeLiteral, TimeLiteral> && kind_is<NodeKind::kRangeLiteral, RangeLiteral> &&
              kind_is<NodeKind::kIdentifier, Identifier> && kind_is<NodeKind::kBind, Bind> &&
              kind_is<NodeKind::kUnaryOp, UnaryOp> && kind_is<NodeKind::kBinaryOp, BinaryOp> &&
              kind_is<NodeKind::kIsIn, IsIn> && kind_is<NodeKind::kParens, Parens> &&
              kind_is<NodeKind::kTuple, Tuple> && kind_is<NodeKind::kFunctionCall, FunctionCall> &&
              kind_is<NodeKind::kPoint, PointCall> && kind_is<NodeKind::kCircle, CircleCall> &&
              kind_is<NodeKind::kBox, BoxCall> && kind_is<NodeKind::kPolygon, PolygonCall> &&
              kind_is<NodeKind::kRegion, RegionCall> && kind_is<NodeKind::kGlob, GlobCall> &&
              kind_is<NodeKind::kUuid, UuidCall> && std::variant_size_v<Node> == 19,
              "NodeKind must list the alternatives of Node in order");

void print(const Expr& e, std::string& out);

void print_list(const std::vector<Expr>& items, std::string& out) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    print(items[i], out);
  }
}

void print_call(std::string_view name, std::initializer_list<const ExprPtr*> args,
                std::string& out) {
  out += name;
  out += '(';
  bool first = true;
  for (const ExprPtr* a : args) {
    if (!first) out += ", ";
    first = false;
    print(**a, out);
  }
  out += ')';
}

void print(const Expr& e, std::string& out) {
  e.visit(Overloaded{
      [&](const NumericLiteral& n) { out += n.text; },
      [&](const StringLiteral& n) { out += '\'' + n.value + '\''; },
      [&](const TimeLiteral& n) { out += "T'" + n.text + '\''; },
      [&](const RangeLiteral& n) {
        out += std::to_string(n.start) + ".." + std::to_string(n.stop);
        if (n.stride) out += ':' + std::to_string(*n.stride);
      },
      [&](const Identifier& n) { out += n.name(); },
      [&](const Bind& n) { out += ':' + n.name; },
      [&](const UnaryOp& n) {
        out += operator_text(n.op);
        // "- 1..2" must not print as "-1..2", which reads back as one range token.
        const auto* range = n.operand->as<RangeLiteral>();
        if (n.op == UnaryOperator::kNot || (n.op == UnaryOperator::kMinus && range && range->start >= 0)) {
          out += ' ';
        }
        print(*n.operand, out);
      },
      [&](const BinaryOp& n) {
        print(*n.lhs, out);
        out += ' ';
        out += operator_text(n.op);
        out += ' ';
        print(*n.rhs, out);
      },
      [&](const IsIn& n) {
        print(*n.lhs, out);
        out += n.negated ? " NOT IN (" : " IN (";
        print_list(n.items, out);
        out += ')';
      },
      [&](const Parens& n) {
        out += '(';
        print(*n.inner, out);
        out += ')';
      },
      [&](const Tuple& n) {
        out += '(';
        print(*n.first, out);
        out += ", ";
        print(*n.second, out);
        out += ')';
      },
      [&](const FunctionCall& n) {
        out += n.name + '(';
        print_list(n.args, out);
        out += ')';
      },
      [&](const PointCall& n) { print_call("POINT", {&n.ra, &n.dec}, out); },
      [&](const CircleCall& n) { print_call("CIRCLE", {&n.ra, &n.dec, &n.radius}, out); },
      [&](const BoxCall& n) { print_call("BOX", {&n.ra, &n.dec, &n.width, &n.height}, out); },
      [&](const PolygonCall& n) {
        out += "POLYGON(";
        print_list(n.coords, out);
        out += ')';
      },
      [&](const RegionCall& n) { print_call("REGION", {&n.pos}, out); },
      [&](const GlobCall& n) { print_call("GLOB", {&n.column, &n.pattern}, out); },
      [&](const UuidCall& n) { out += "UUID('" + n.text + "')"; },
  });
}

}  // namespace

std::string_view operator_text(UnaryOperator op) {
  switch (op) {
    case UnaryOperator::kPlus: return "+";
    case UnaryOperator::kMinus: return "-";
    case UnaryOperator::kNot: return "NOT";
  }
  return "?";
}

std::string_view operator_text(BinaryOperator op) {
  switch (op) {
    case BinaryOperator::kOr: return "OR";
    case BinaryOperator::kAnd: return "AND";
    case BinaryOperator::kOverlaps: return "OVERLAPS";
    case BinaryOperator::kEq: return "=";
    case BinaryOperator::kNe: return "!=";
    case BinaryOperator::kLt: return "<";
    case BinaryOperator::kLe: return "<=";
    case BinaryOperator::kGt: return ">";
    case BinaryOperator::kGe: return ">=";
    case BinaryOperator::kAdd: return "+";
    case BinaryOperator::kSub: return "-";
    case BinaryOperator::kMul: return "*";
    case BinaryOperator::kDiv: return "/";
    case BinaryOperator::kMod: return "%";
  }
  return "?";
}

std::string_view node_kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::kNumericLiteral: return "numeric literal";
    case NodeKind::kStringLiteral: return "string literal";
    case NodeKind::kTimeLiteral: return "time literal";
    case NodeKind::kRangeLiteral: return "range literal";
    case NodeKind::kIdentifier: return "identifier";
    case NodeKind::kBind: return "bind";
    case NodeKind::kUnaryOp: return "unary operation";
    case NodeKind::kBinaryOp: return "binary operation";
    case NodeKind::kIsIn: return "IN expression";
    case NodeKind::kParens: return "parenthesized expression";
    case NodeKind::kTuple: return "tuple";
    case NodeKind::kFunctionCall: return "function call";
    case NodeKind::kPoint: return "POINT() call";
    case NodeKind::kCircle: return "CIRCLE() call";
    case NodeKind::kBox: return "BOX() call";
    case NodeKind::kPolygon: return "POLYGON() call";
    case NodeKind::kRegion: return "REGION() call";
    case NodeKind::kGlob: return "GLOB() call";
    case NodeKind::kUuid: return "UUID() call";
  }
  return "?";
}

std::string Identifier::name() const {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '.';
    out += parts[i];
  }
  return out;
}

std::string Expr::str() const {
  std::string out;
  print(*this, out);
  return out;
}

}  // namespace majordome::query
