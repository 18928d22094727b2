// The where-expression language: syntax tree and parser (spec/butler.md §4,
// docs/query_language.md).
//
//   auto tree = majordome::query::parse_expression("visit = 42 AND band IN ('g', 'r')");
//   if (tree) std::cout << tree->str();   // "visit = 42 AND band IN ('g', 'r')"
//
// The tree is syntax only: identifiers are not resolved, binds are not substituted, types
// are not checked (`a = b = c` parses as `(a = b) = c`). The binder does that. What the
// parser does check: the grammar, time literals (evaluated to TAI here) and the arity and
// argument shapes of the special functions POINT, CIRCLE, BOX, POLYGON, REGION, GLOB, UUID.
//
// A tree is a value: an Expr owns its children (move-only). Every node keeps the position
// of its first token so later stages can point at it with ExpressionError.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "majordome/core/time.hpp"
#include "majordome/core/uuid.hpp"
#include "majordome/query/expr_error.hpp"

namespace majordome::query {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// The parser refuses trees deeper than this (nested parentheses, unary operators, function
// calls, and chains of the arithmetic and comparison operators alike), so recursive walks
// over any tree it returns are safe. A flat chain of AND or OR (`a OR b OR c …`, of any
// length) is not nesting: the parser groups its terms, in order, into a balanced tree of
// BinaryOp whose height is the log of their number. Parsing at the limit needs under 1 MB
// of stack (about 2 MB under AddressSanitizer).
inline constexpr int kMaxExpressionDepth = 500;

// ---- literals -----------------------------------------------------------------------

// 42, -7, 1.5, 1.e5, .5e-2. `text` is as written, with a leading sign folded in when the
// source had `-`/`+` right before the number ("- 10" gives "-10").
struct NumericLiteral {
  std::string text;
  std::optional<std::int64_t> integer;  // set when `text` is an integer that fits in 64 bits
  double value = 0.0;                   // the value as a double (always set)
};

struct StringLiteral {
  std::string value;  // without the quotes
};

// T'2020-01-01T00:00:00', evaluated at parse time.
struct TimeLiteral {
  std::string text;  // between the quotes, as written
  TaiTime value;
  std::string format;  // as resolved: "iso", "mjd", …
  std::string scale;   // as resolved: "utc", "tai", …
};

// start..stop[:stride]: the integers start, start+stride, … up to and including stop.
struct RangeLiteral {
  std::int64_t start = 0;
  std::int64_t stop = 0;
  std::optional<std::int64_t> stride;  // as written; >= 1 when present
  std::int64_t step() const { return stride.value_or(1); }
};

// ---- names ----------------------------------------------------------------------------

// visit, visit.id, visit.timespan.begin: 1 to 3 parts, case as written.
struct Identifier {
  std::vector<std::string> parts;
  std::string name() const;  // parts joined with '.'
};

// :name, a value supplied separately by the caller.
struct Bind {
  std::string name;  // without ':'
};

// ---- operators ------------------------------------------------------------------------

enum class UnaryOperator { kPlus, kMinus, kNot };

enum class BinaryOperator {
  kOr, kAnd,
  kOverlaps, kEq, kNe, kLt, kLe, kGt, kGe,
  kAdd, kSub, kMul, kDiv, kMod,
};

// "+", "-", "NOT" / "OR", "AND", "OVERLAPS", "=", "!=", "<", … "%".
std::string_view operator_text(UnaryOperator op);
std::string_view operator_text(BinaryOperator op);

struct UnaryOp {
  UnaryOperator op;
  ExprPtr operand;
};

struct BinaryOp {
  BinaryOperator op;
  ExprPtr lhs;
  ExprPtr rhs;
  SourcePos op_pos;  // where the operator is written
};

// lhs [NOT] IN (item, …). Items are literals (ranges included), simple identifiers, binds
// or function calls, as the grammar allows.
struct IsIn {
  ExprPtr lhs;
  std::vector<Expr> items;
  bool negated = false;
};

// ( expr ): kept so str() reproduces the user's grouping; semantically transparent.
struct Parens {
  ExprPtr inner;
};

// ( first, second ): the only tuple the language has, used for timespans.
struct Tuple {
  ExprPtr first;
  ExprPtr second;
};

// name(args…) for any function that is not one of the special functions below. The
// parser accepts it; the binder decides whether it exists.
struct FunctionCall {
  std::string name;  // as written
  std::vector<Expr> args;
};

// ---- special functions (names case-insensitive, validated by the parser) ----------------
// Numeric arguments are numeric literals, identifiers, binds, generic function calls, or
// + - * / % and parentheses over those.

struct PointCall {  // POINT(ra, dec), degrees
  ExprPtr ra, dec;
};

// CIRCLE(ra, dec, radius), degrees. Rubin builds the circle with opening angle 2*radius;
// the binder reproduces that (docs/query_language.md).
struct CircleCall {
  ExprPtr ra, dec, radius;
};

struct BoxCall {  // BOX(ra, dec, width, height), degrees; centre and full sizes
  ExprPtr ra, dec, width, height;
};

struct PolygonCall {  // POLYGON(ra1, dec1, ra2, dec2, ra3, dec3, …): >= 3 vertices
  std::vector<Expr> coords;  // flat: ra1, dec1, ra2, dec2, …
  std::size_t vertex_count() const;  // coords.size() / 2
};

struct RegionCall {  // REGION('IVOA SIAv2 POS text') or REGION(:bind)
  ExprPtr pos;       // a StringLiteral or a Bind (parentheses removed)
};

struct GlobCall {   // GLOB(column, 'pattern') or GLOB(column, :bind)
  ExprPtr column;   // an Identifier (parentheses removed)
  ExprPtr pattern;  // a StringLiteral or a Bind (parentheses removed)
};

struct UuidCall {  // UUID('38a42b54-0822-4dce-93b7-47e9b0d8ad66')
  std::string text;  // as written
  Uuid value;
};

// ---- the node -------------------------------------------------------------------------

// Alternatives in the order of NodeKind.
using Node = std::variant<NumericLiteral, StringLiteral, TimeLiteral, RangeLiteral, Identifier,
                          Bind, UnaryOp, BinaryOp, IsIn, Parens, Tuple, FunctionCall, PointCall,
                          CircleCall, BoxCall, PolygonCall, RegionCall, GlobCall, UuidCall>;

enum class NodeKind {
  kNumericLiteral, kStringLiteral, kTimeLiteral, kRangeLiteral, kIdentifier, kBind,
  kUnaryOp, kBinaryOp, kIsIn, kParens, kTuple, kFunctionCall, kPoint, kCircle, kBox,
  kPolygon, kRegion, kGlob, kUuid,
};

// "numeric literal", "identifier", "IN expression", "POINT() call", … for messages.
std::string_view node_kind_name(NodeKind kind);

struct Expr {
  Node node;
  SourcePos pos;  // of the first token of this node

  NodeKind kind() const { return static_cast<NodeKind>(node.index()); }

  // The node as T, or nullptr if it is another kind.
  template <class T>
  const T* as() const {
    return std::get_if<T>(&node);
  }

  // The node as T. REQUIRES: it is a T (else std::bad_variant_access: a programming error).
  template <class T>
  const T& get() const {
    return std::get<T>(node);
  }

  // std::visit over the node; combine lambdas with Overloaded{…}.
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit(std::forward<F>(f), node);
  }

  // The normalised text: keywords and special-function names upper-case, single spaces
  // around binary operators, ", " between list items, the user's parentheses kept.
  // Parsing str() gives back an equal tree.
  std::string str() const;
};

inline std::size_t PolygonCall::vertex_count() const { return coords.size() / 2; }

// Overloaded{[](const BinaryOp&) {…}, [](const auto&) {…}}: a visitor from lambdas.
template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// Calls f(const Expr&) on each direct child of `expr`, left to right.
template <class F>
void for_each_child(const Expr& expr, F&& f);

// Calls f(const Expr&) on `expr` and all its descendants, parents before children, left
// to right. Recursion depth is bounded by kMaxExpressionDepth for parsed trees.
template <class F>
void walk(const Expr& expr, F&& f) {
  f(expr);
  for_each_child(expr, [&f](const Expr& child) { walk(child, f); });
}

// Parses a where-expression. Returns nullopt for an empty (or blank) expression, which
// means "no constraint". Throws ExpressionError (an InvalidQueryError) on a lexical or
// syntax error, an invalid time literal, a wrong special-function call, or a tree deeper
// than kMaxExpressionDepth. Linear in the length of the text.
std::optional<Expr> parse_expression(std::string_view text);

// ---- implementation of the templates above ---------------------------------------------

template <class F>
void for_each_child(const Expr& expr, F&& f) {
  auto one = [&f](const ExprPtr& p) { f(*p); };
  auto all = [&f](const std::vector<Expr>& v) {
    for (const Expr& e : v) f(e);
  };
  expr.visit(Overloaded{
      [&](const UnaryOp& n) { one(n.operand); },
      [&](const BinaryOp& n) { one(n.lhs); one(n.rhs); },
      [&](const IsIn& n) { one(n.lhs); all(n.items); },
      [&](const Parens& n) { one(n.inner); },
      [&](const Tuple& n) { one(n.first); one(n.second); },
      [&](const FunctionCall& n) { all(n.args); },
      [&](const PointCall& n) { one(n.ra); one(n.dec); },
      [&](const CircleCall& n) { one(n.ra); one(n.dec); one(n.radius); },
      [&](const BoxCall& n) { one(n.ra); one(n.dec); one(n.width); one(n.height); },
      [&](const PolygonCall& n) { all(n.coords); },
      [&](const RegionCall& n) { one(n.pos); },
      [&](const GlobCall& n) { one(n.column); one(n.pattern); },
      [](const auto&) {},  // literals, identifiers, binds, UUID(): no children
  });
}

}  // namespace majordome::query
