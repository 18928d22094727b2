// Recursive descent over the grammar of spec/butler.md §4, one function per level:
//
//   or_expr    := and_expr (OR and_expr)*
//   and_expr   := not_expr (AND not_expr)*
//   not_expr   := NOT not_expr | comparison
//   comparison := predicate ((= != < <= > >= OVERLAPS) predicate)*
//   predicate  := additive [[NOT] IN ( item {, item} )]
//   additive   := multiplicative ((+ -) multiplicative)*
//   multiplicative := unary ((* / %) unary)*
//   unary      := (+ -) NUMERIC | (+ -) unary | primary
//   primary    := literal | identifier | bind | call | ( or_expr [, or_expr] )
//
// This is the language Rubin's LALR grammar accepts: its comparison rule is left-recursive
// with a `predicate` on the right, so all comparison operators and OVERLAPS share one
// left-associative level whatever the precedence table says, and NOT, although declared
// with the highest precedence, can only prefix a whole comparison.
#include <algorithm>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "majordome/query/expr_lexer.hpp"
#include "majordome/query/expr_time.hpp"
#include "majordome/query/expression.hpp"

namespace majordome::query {
namespace {

// A parsed subtree and its height, so the depth limit also covers long chains of the
// non-associative operators (a + b + c …, which stay left-deep).
// Nodes live on the heap from the start, and token handling and node construction are
// kept out of line ([[gnu::noinline]]): the recursive functions then hold little more than
// pointers, about 1.5 kB of stack per nesting level instead of 5 kB.
struct Sub {
  ExprPtr expr;
  int height = 1;
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string location(SourcePos pos) {
  return " (line: " + std::to_string(pos.line) + ", pos: " + std::to_string(pos.column) + ")";
}

std::string_view truncated(std::string_view text) {
  return text.size() > 40 ? text.substr(0, 40) : text;
}

bool is_arithmetic(BinaryOperator op) {
  return op == BinaryOperator::kAdd || op == BinaryOperator::kSub || op == BinaryOperator::kMul ||
         op == BinaryOperator::kDiv || op == BinaryOperator::kMod;
}

// What a coordinate of POINT/CIRCLE/BOX/POLYGON may be: something that can evaluate to a
// number. Which identifiers and functions exist is the binder's business.
bool is_numeric_like(const Expr& e) {
  return e.visit(Overloaded{
      [](const NumericLiteral&) { return true; },
      [](const Identifier&) { return true; },
      [](const Bind&) { return true; },
      [](const FunctionCall&) { return true; },
      [](const UnaryOp& n) { return n.op != UnaryOperator::kNot && is_numeric_like(*n.operand); },
      [](const BinaryOp& n) {
        return is_arithmetic(n.op) && is_numeric_like(*n.lhs) && is_numeric_like(*n.rhs);
      },
      [](const Parens& n) { return is_numeric_like(*n.inner); },
      [](const auto&) { return false; },
  });
}

ExprPtr without_parens(ExprPtr e) {
  while (auto* p = std::get_if<Parens>(&e->node)) {
    ExprPtr inner = std::move(p->inner);
    e = std::move(inner);
  }
  return e;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lexer_(text), cur_(lexer_.next()) {}

  std::optional<Expr> parse() {
    if (cur_.kind == TokenKind::kEnd) return std::nullopt;
    Sub result = parse_or();
    if (cur_.kind != TokenKind::kEnd) syntax_error(cur_);
    return std::move(*result.expr);
  }

 private:
  // ---- tokens ----

  [[gnu::noinline]] const Token& peek() {
    if (!peek_) peek_ = lexer_.next();
    return *peek_;
  }

  [[gnu::noinline]] void advance() {
    if (peek_) {
      cur_ = *peek_;
      peek_.reset();
    } else {
      cur_ = lexer_.next();
    }
  }

  // Consumes cur_ and returns its position.
  SourcePos take() {
    SourcePos pos = cur_.pos;
    advance();
    return pos;
  }

  bool accept(TokenKind kind) {
    if (cur_.kind != kind) return false;
    advance();
    return true;
  }

  void expect(TokenKind kind) {
    if (cur_.kind != kind) syntax_error(cur_);
    advance();
  }

  // ---- errors ----

  [[gnu::noinline]] [[noreturn]] void error_at(SourcePos pos, const std::string& reason) const {
    throw ExpressionError(text_, pos, reason + location(pos));
  }

  [[gnu::noinline]] [[noreturn]] void syntax_error(const Token& t) const {
    if (t.kind == TokenKind::kEnd) {
      throw ExpressionError(text_, t.pos, "End of input reached while expecting further input");
    }
    std::string shown(truncated(t.text));
    if (shown.size() < t.text.size()) shown += "...";
    error_at(t.pos, "Syntax error at or near '" + shown + "'");
  }

  [[gnu::noinline]] [[noreturn]] void too_deep(SourcePos pos) const {
    error_at(pos, "Expression nested too deeply (more than " +
                      std::to_string(kMaxExpressionDepth) + " levels)");
  }

  // Counts open constructs while descending so recursion stops before the stack suffers.
  class Nesting {
   public:
    Nesting(Parser& parser, SourcePos pos) : parser_(parser) {
      if (++parser_.depth_ > kMaxExpressionDepth) parser_.too_deep(pos);
    }
    ~Nesting() { --parser_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& parser_;
  };

  // ---- building nodes ----

  template <class N>
  Sub make(N&& node, SourcePos pos, int child_height = 0) const {
    const int height = child_height + 1;
    if (height > kMaxExpressionDepth) too_deep(pos);
    return {std::make_unique<Expr>(Expr{Node(std::forward<N>(node)), pos}), height};
  }

  [[gnu::noinline]] Sub make_binary(BinaryOperator op, Sub lhs, Sub rhs, SourcePos op_pos) const {
    const SourcePos pos = lhs.expr->pos;
    return make(BinaryOp{op, std::move(lhs.expr), std::move(rhs.expr), op_pos}, pos,
                std::max(lhs.height, rhs.height));
  }

  [[gnu::noinline]] Sub make_unary(UnaryOperator op, Sub operand, SourcePos pos) const {
    return make(UnaryOp{op, std::move(operand.expr)}, pos, operand.height);
  }

  [[gnu::noinline]] Sub make_is_in(Sub lhs, std::vector<Sub> items, bool negated) const {
    IsIn in{std::move(lhs.expr), {}, negated};
    int height = lhs.height;
    in.items.reserve(items.size());
    for (Sub& item : items) {
      height = std::max(height, item.height);
      in.items.push_back(std::move(*item.expr));
    }
    const SourcePos pos = in.lhs->pos;
    return make(std::move(in), pos, height);
  }

  [[gnu::noinline]] Sub make_parens(Sub inner, SourcePos pos) const {
    return make(Parens{std::move(inner.expr)}, pos, inner.height);
  }

  [[gnu::noinline]] Sub make_tuple(Sub first, Sub second, SourcePos pos) const {
    return make(Tuple{std::move(first.expr), std::move(second.expr)}, pos,
                std::max(first.height, second.height));
  }

  // The NUMERIC token at cur_, with `sign` ("", "+" or "-") written at `pos` before it.
  [[gnu::noinline]] Sub numeric_literal(std::string_view sign, SourcePos pos) {
    const std::string_view digits = cur_.text;
    advance();
    NumericLiteral lit;
    lit.text = std::string(sign) + std::string(digits);
    const bool negative = sign == "-";
    if (digits.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t v = 0;
      const std::string_view signed_digits = negative ? std::string_view(lit.text) : digits;
      auto r = std::from_chars(signed_digits.data(), signed_digits.data() + signed_digits.size(), v);
      if (r.ec == std::errc() && r.ptr == signed_digits.data() + signed_digits.size()) lit.integer = v;
    }
    double d = 0.0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
      error_at(pos, "Number out of range: " + std::string(truncated(lit.text)));
    }
    lit.value = negative ? -d : d;
    return make(std::move(lit), pos);
  }

  // A signed numeric literal: cur_ is + or -, the next token is NUMERIC.
  [[gnu::noinline]] Sub signed_numeric_literal() {
    const std::string_view sign = cur_.text;
    const SourcePos pos = take();
    if (cur_.kind != TokenKind::kNumeric) syntax_error(cur_);
    return numeric_literal(sign, pos);
  }

  [[gnu::noinline]] Sub time_literal() {
    const Token t = cur_;
    advance();
    TimeLiteral lit;
    lit.text = std::string(t.value());
    try {
      TimeLiteralValue v = parse_time_literal(lit.text);
      lit.value = v.time;
      lit.format = std::move(v.format);
      lit.scale = std::move(v.scale);
    } catch (const InvalidQueryError& e) {
      error_at(t.pos, "Invalid time literal T'" + std::string(truncated(lit.text)) +
                          (lit.text.size() > 40 ? "..." : "") + "': " + e.what());
    }
    return make(std::move(lit), t.pos);
  }

  // A leaf at cur_: literal, bind or identifier (not a call). nullopt if cur_ is none.
  [[gnu::noinline]] std::optional<Sub> leaf() {
    const Token& t = cur_;
    switch (t.kind) {
      case TokenKind::kNumeric: return numeric_literal("", t.pos);
      case TokenKind::kTime: return time_literal();
      case TokenKind::kString: {
        Sub s = make(StringLiteral{std::string(t.value())}, t.pos);
        advance();
        return s;
      }
      case TokenKind::kRange: {
        Sub s = make(RangeLiteral{t.range_start, t.range_stop, t.range_stride}, t.pos);
        advance();
        return s;
      }
      case TokenKind::kBind: {
        Sub s = make(Bind{std::string(t.value())}, t.pos);
        advance();
        return s;
      }
      case TokenKind::kSimpleIdentifier:
      case TokenKind::kQualifiedIdentifier: {
        Identifier id;
        std::string_view rest = t.text;
        for (std::size_t dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
          id.parts.emplace_back(rest.substr(0, dot));
          rest.remove_prefix(dot + 1);
        }
        id.parts.emplace_back(rest);
        Sub s = make(std::move(id), t.pos);
        advance();
        return s;
      }
      default: return std::nullopt;
    }
  }

  // ---- grammar ----

  Sub parse_or() { return parse_chain(TokenKind::kOr, BinaryOperator::kOr, &Parser::parse_and); }

  Sub parse_and() { return parse_chain(TokenKind::kAnd, BinaryOperator::kAnd, &Parser::parse_not); }

  // term (OP term)*, for the associative AND and OR. A flat chain is not nesting: users
  // generate `visit = 1 OR visit = 2 OR …` with thousands of terms. The terms, in their
  // order, become a balanced tree whose height grows with the log of their number, so
  // every recursive walk after the parser stays shallow, and so does the SQL made from
  // the tree (SQLite refuses expressions nested more than 1000 deep, which a left-deep
  // `(((a OR b) OR c) …)` would be). AND and OR being associative, the meaning is the same.
  Sub parse_chain(TokenKind token, BinaryOperator op, Sub (Parser::*term)()) {
    Sub first = (this->*term)();
    if (cur_.kind != token) return first;
    std::vector<Sub> terms;
    std::vector<SourcePos> operators;
    terms.push_back(std::move(first));
    while (cur_.kind == token) {
      operators.push_back(take());
      terms.push_back((this->*term)());
    }
    return balanced(op, terms, operators, 0, terms.size());
  }

  // terms[begin, end) joined by `op`; operators[i] is the one between terms i and i + 1.
  Sub balanced(BinaryOperator op, std::vector<Sub>& terms, const std::vector<SourcePos>& operators,
               std::size_t begin, std::size_t end) const {
    if (end - begin == 1) return std::move(terms[begin]);
    const std::size_t middle = begin + (end - begin + 1) / 2;  // a OR b OR c: (a OR b) OR c
    Sub lhs = balanced(op, terms, operators, begin, middle);
    Sub rhs = balanced(op, terms, operators, middle, end);
    return make_binary(op, std::move(lhs), std::move(rhs), operators[middle - 1]);
  }

  Sub parse_not() {
    if (cur_.kind != TokenKind::kNot) return parse_comparison();
    const SourcePos pos = take();
    Nesting nesting(*this, pos);
    return make_unary(UnaryOperator::kNot, parse_not(), pos);
  }

  static std::optional<BinaryOperator> comparison_operator(TokenKind kind) {
    switch (kind) {
      case TokenKind::kEq: return BinaryOperator::kEq;
      case TokenKind::kNe: return BinaryOperator::kNe;
      case TokenKind::kLt: return BinaryOperator::kLt;
      case TokenKind::kLe: return BinaryOperator::kLe;
      case TokenKind::kGt: return BinaryOperator::kGt;
      case TokenKind::kGe: return BinaryOperator::kGe;
      case TokenKind::kOverlaps: return BinaryOperator::kOverlaps;
      default: return std::nullopt;
    }
  }

  Sub parse_comparison() {
    Sub lhs = parse_predicate();
    while (auto op = comparison_operator(cur_.kind)) {
      const SourcePos op_pos = take();
      lhs = make_binary(*op, std::move(lhs), parse_predicate(), op_pos);
    }
    return lhs;
  }

  Sub parse_predicate() {
    Sub lhs = parse_additive();
    bool negated = false;
    if (cur_.kind == TokenKind::kNot) {
      advance();
      negated = true;
      if (cur_.kind != TokenKind::kIn) syntax_error(cur_);
    }
    if (cur_.kind != TokenKind::kIn) return lhs;
    advance();
    expect(TokenKind::kLeftParen);
    std::vector<Sub> items;
    do {
      items.push_back(parse_in_item());
    } while (accept(TokenKind::kComma));
    expect(TokenKind::kRightParen);
    return make_is_in(std::move(lhs), std::move(items), negated);
  }

  // literal | (+|-) NUMERIC | SIMPLE_IDENTIFIER | bind | function call
  Sub parse_in_item() {
    switch (cur_.kind) {
      case TokenKind::kPlus:
      case TokenKind::kMinus: return signed_numeric_literal();
      case TokenKind::kSimpleIdentifier:
        if (peek().kind == TokenKind::kLeftParen) return parse_call();
        break;
      case TokenKind::kQualifiedIdentifier: syntax_error(cur_);
      default: break;
    }
    if (auto s = leaf()) return std::move(*s);
    syntax_error(cur_);
  }

  Sub parse_additive() {
    Sub lhs = parse_multiplicative();
    while (cur_.kind == TokenKind::kPlus || cur_.kind == TokenKind::kMinus) {
      const auto op = cur_.kind == TokenKind::kPlus ? BinaryOperator::kAdd : BinaryOperator::kSub;
      const SourcePos op_pos = take();
      lhs = make_binary(op, std::move(lhs), parse_multiplicative(), op_pos);
    }
    return lhs;
  }

  Sub parse_multiplicative() {
    Sub lhs = parse_unary();
    for (;;) {
      BinaryOperator op;
      switch (cur_.kind) {
        case TokenKind::kStar: op = BinaryOperator::kMul; break;
        case TokenKind::kSlash: op = BinaryOperator::kDiv; break;
        case TokenKind::kPercent: op = BinaryOperator::kMod; break;
        default: return lhs;
      }
      const SourcePos op_pos = take();
      lhs = make_binary(op, std::move(lhs), parse_unary(), op_pos);
    }
  }

  Sub parse_unary() {
    if (cur_.kind != TokenKind::kPlus && cur_.kind != TokenKind::kMinus) return parse_primary();
    // A sign right before a number is part of the literal, as in Rubin's grammar.
    if (peek().kind == TokenKind::kNumeric) return signed_numeric_literal();
    const auto op = cur_.kind == TokenKind::kPlus ? UnaryOperator::kPlus : UnaryOperator::kMinus;
    const SourcePos pos = take();
    Nesting nesting(*this, pos);
    return make_unary(op, parse_unary(), pos);
  }

  Sub parse_primary() {
    if (cur_.kind == TokenKind::kLeftParen) {
      const SourcePos pos = take();
      Nesting nesting(*this, pos);
      Sub first = parse_or();
      if (accept(TokenKind::kComma)) {
        Sub second = parse_or();
        expect(TokenKind::kRightParen);
        return make_tuple(std::move(first), std::move(second), pos);
      }
      expect(TokenKind::kRightParen);
      return make_parens(std::move(first), pos);
    }
    if (cur_.kind == TokenKind::kSimpleIdentifier && peek().kind == TokenKind::kLeftParen) {
      return parse_call();
    }
    if (auto s = leaf()) return std::move(*s);
    syntax_error(cur_);
  }

  // SIMPLE_IDENTIFIER ( [or_expr {, or_expr}] ), cur_ at the name.
  Sub parse_call() {
    const Token name = cur_;
    advance();
    Nesting nesting(*this, name.pos);
    expect(TokenKind::kLeftParen);
    std::vector<Sub> args;
    if (!accept(TokenKind::kRightParen)) {
      do {
        args.push_back(parse_or());
      } while (accept(TokenKind::kComma));
      expect(TokenKind::kRightParen);
    }
    return build_call(name, std::move(args));
  }

  // ---- special functions ----

  void require_args(const Token& name, const std::vector<Sub>& args, std::size_t count,
                    std::string_view signature) const {
    if (args.size() == count) return;
    error_at(name.pos, upper(name.text) + " requires " + std::to_string(count) + " argument" +
                           (count == 1 ? "" : "s") + " " + std::string(signature) + ", got " +
                           std::to_string(args.size()));
  }

  ExprPtr numeric_arg(std::string_view function, std::vector<Sub>& args, std::size_t index,
                      std::string_view role) const {
    ExprPtr& arg = args[index].expr;
    if (!is_numeric_like(*arg)) {
      error_at(arg->pos, std::string(function) + " argument " + std::to_string(index + 1) + " (" +
                             std::string(role) + ") must be numeric, not " +
                             std::string(node_kind_name(arg->kind())));
    }
    return std::move(arg);
  }

  // Parentheses removed; must be a string literal or a bind.
  ExprPtr string_or_bind_arg(std::string_view function, std::vector<Sub>& args,
                             std::size_t index, std::string_view role) const {
    ExprPtr arg = without_parens(std::move(args[index].expr));
    if (arg->kind() != NodeKind::kStringLiteral && arg->kind() != NodeKind::kBind) {
      error_at(arg->pos, std::string(function) + " argument " + std::to_string(index + 1) + " (" +
                             std::string(role) + ") must be a string literal or a bind, not " +
                             std::string(node_kind_name(arg->kind())));
    }
    return arg;
  }

  [[gnu::noinline]] Sub build_call(const Token& name, std::vector<Sub> args) const {
    int height = 0;
    for (const Sub& a : args) height = std::max(height, a.height);
    const std::string fn = upper(name.text);
    const SourcePos pos = name.pos;
    if (fn == "POINT") {
      require_args(name, args, 2, "(ra, dec)");
      return make(PointCall{numeric_arg(fn, args, 0, "ra"), numeric_arg(fn, args, 1, "dec")}, pos,
                  height);
    }
    if (fn == "CIRCLE") {
      require_args(name, args, 3, "(ra, dec, radius)");
      return make(CircleCall{numeric_arg(fn, args, 0, "ra"), numeric_arg(fn, args, 1, "dec"),
                             numeric_arg(fn, args, 2, "radius")},
                  pos, height);
    }
    if (fn == "BOX") {
      require_args(name, args, 4, "(ra, dec, width, height)");
      return make(BoxCall{numeric_arg(fn, args, 0, "ra"), numeric_arg(fn, args, 1, "dec"),
                          numeric_arg(fn, args, 2, "width"), numeric_arg(fn, args, 3, "height")},
                  pos, height);
    }
    if (fn == "POLYGON") {
      if (args.size() % 2 != 0 || args.size() < 6) {
        error_at(pos, "POLYGON requires an even number of arguments, at least 6 "
                      "(ra1, dec1, ra2, dec2, ra3, dec3, ...), got " +
                          std::to_string(args.size()));
      }
      PolygonCall polygon;
      polygon.coords.reserve(args.size());
      for (std::size_t i = 0; i < args.size(); ++i) {
        polygon.coords.push_back(std::move(*numeric_arg(fn, args, i, i % 2 == 0 ? "ra" : "dec")));
      }
      return make(std::move(polygon), pos, height);
    }
    if (fn == "REGION") {
      require_args(name, args, 1, "(a string or a bind)");
      return make(RegionCall{string_or_bind_arg(fn, args, 0, "region")}, pos, height);
    }
    if (fn == "GLOB") {
      require_args(name, args, 2, "(column, pattern)");
      ExprPtr column = without_parens(std::move(args[0].expr));
      if (column->kind() != NodeKind::kIdentifier) {
        error_at(column->pos, "GLOB argument 1 (column) must be an identifier, not " +
                                  std::string(node_kind_name(column->kind())));
      }
      ExprPtr pattern = string_or_bind_arg(fn, args, 1, "pattern");
      return make(GlobCall{std::move(column), std::move(pattern)}, pos, height);
    }
    if (fn == "UUID") {
      require_args(name, args, 1, "(a string)");
      ExprPtr arg = without_parens(std::move(args[0].expr));
      const auto* text = arg->as<StringLiteral>();
      if (!text) {
        error_at(arg->pos, "UUID argument must be a string literal, not " +
                               std::string(node_kind_name(arg->kind())));
      }
      auto uuid = Uuid::parse(text->value);
      if (!uuid) {
        error_at(arg->pos, "'" + std::string(truncated(text->value)) + "' is not a valid UUID");
      }
      return make(UuidCall{text->value, *uuid}, pos, height);
    }
    FunctionCall call{std::string(name.text), {}};
    call.args.reserve(args.size());
    for (Sub& a : args) call.args.push_back(std::move(*a.expr));
    return make(std::move(call), pos, height);
  }

  std::string_view text_;
  Lexer lexer_;
  Token cur_;
  std::optional<Token> peek_;
  int depth_ = 0;
};

}  // namespace

std::optional<Expr> parse_expression(std::string_view text) { return Parser(text).parse(); }

}  // namespace majordome::query
