#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "majordome/query/expression.hpp"

namespace majordome::query {
namespace {

Expr parse(std::string_view text) {
  auto e = parse_expression(text);
  if (!e) throw std::runtime_error("empty expression");
  return std::move(*e);
}

std::string normalised(std::string_view text) { return parse(text).str(); }

// The tree as an S-expression, so grouping is visible: "a OR b AND c" -> (OR a (AND b c)).
std::string shape(const Expr& e) {
  std::string out;
  e.visit(Overloaded{
      [&](const BinaryOp& n) {
        out = "(" + std::string(operator_text(n.op)) + " " + shape(*n.lhs) + " " + shape(*n.rhs) + ")";
      },
      [&](const UnaryOp& n) { out = "(" + std::string(operator_text(n.op)) + " " + shape(*n.operand) + ")"; },
      [&](const IsIn& n) {
        out = std::string(n.negated ? "(NOT-IN " : "(IN ") + shape(*n.lhs);
        for (const Expr& item : n.items) out += " " + shape(item);
        out += ")";
      },
      [&](const Parens& n) { out = "[" + shape(*n.inner) + "]"; },
      [&](const auto&) { out = e.str(); },
  });
  return out;
}

std::string shape(std::string_view text) { return shape(parse(text)); }

// The ExpressionError `text` raises.
ExpressionError error_of(std::string_view text) {
  try {
    parse_expression(text);
  } catch (const ExpressionError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << text;
  return ExpressionError(text, {}, "no error");
}

std::string reason_of(std::string_view text) { return error_of(text).reason(); }

// ---- the ✓ cases of spec/butler.md §4, with their normalised text ---------------------

struct Good {
  const char* text;
  const char* str;
};

const std::vector<Good> kRubinGood = {
    {"a = 10", "a = 10"},
    {":b >= a", ":b >= a"},
    {"(A or B) And NoT (x+3 > y)", "(A OR B) AND NOT (x + 3 > y)"},
    {"((instrument='HSC' AND detector != 9) OR instrument='CFHT') AND tract=8766 AND "
     "patch.cell_x > 5 AND patch.cell_y < 4 AND band=:band",
     "((instrument = 'HSC' AND detector != 9) OR instrument = 'CFHT') AND tract = 8766 AND "
     "patch.cell_x > 5 AND patch.cell_y < 4 AND band = :band"},
    {"x in (1,2,5..15) AND y NOT IN (-100..100:10)", "x IN (1, 2, 5..15) AND y NOT IN (-100..100:10)"},
    {"10 not in (1000, 2000..3000:100)", "10 NOT IN (1000, 2000..3000:100)"},
    {"10 in (-1000, -2000)", "10 IN (-1000, -2000)"},
    {"a not in (:a, :b, c, 1)", "a NOT IN (:a, :b, c, 1)"},
    {"id in (UUID('38a42b54-0822-4dce-93b7-47e9b0d8ad66'), :uuid)",
     "id IN (UUID('38a42b54-0822-4dce-93b7-47e9b0d8ad66'), :uuid)"},
    {"T'2020-01-01' in (T'2020-01-01', T'2020-01-02')", "T'2020-01-01' IN (T'2020-01-01', T'2020-01-02')"},
    {"(T'2020-01-01', T'2020-01-02') overlaps (T'2020-01-01', T'2020-01-02')",
     "(T'2020-01-01', T'2020-01-02') OVERLAPS (T'2020-01-01', T'2020-01-02')"},
    {"time > T'2020-03-30'", "time > T'2020-03-30'"},
    {"T'51544.0'", "T'51544.0'"},
    {"T'2020-03-30T12:20:33'", "T'2020-03-30T12:20:33'"},
    {"visit.timespan.end < T'mjd/58938.515/tai'", "visit.timespan.end < T'mjd/58938.515/tai'"},
    {"-10 .. 10:5", "-10..10:5"},
    {"1.e5/2", "1.e5 / 2"},
    {"333%76", "333 % 76"},
    {"- x.y", "-x.y"},
    {".5e-2", ".5e-2"},
    {"x+y Overlaps function(x-y)", "x + y OVERLAPS function(x - y)"},
    {"POLYGON(0, 0, 1, 0, 1, 1)", "POLYGON(0, 0, 1, 0, 1, 1)"},
    {"box(0.5 + 0.1, -1 * :bind_name, 1 / 10, 42.)", "BOX(0.5 + 0.1, -1 * :bind_name, 1 / 10, 42.)"},
    {"region('CIRCLE 0 0 1')", "REGION('CIRCLE 0 0 1')"},
    {"glob((instrument.name), (:pattern))", "GLOB(instrument.name, :pattern)"},
    {"(x+y, ((a AND :b) or (C = D)))", "(x + y, ((a AND :b) OR (C = D)))"},
    {"anything_goes('a', x+y, NOT T < 42., Z IN (1,2,3,4))",
     "anything_goes('a', x + y, NOT T < 42., Z IN (1, 2, 3, 4))"},
    // Conversion-stage failures in Rubin parse fine: the binder rejects them.
    {"foo.bar = 12", "foo.bar = 12"},
    {"timespan.end < :time", "timespan.end < :time"},
    {"GLOB(detector, '*')", "GLOB(detector, '*')"},
};

TEST(ExprParser, EmptyExpressionMeansNoConstraint) {
  EXPECT_FALSE(parse_expression(""));
  EXPECT_FALSE(parse_expression("  \n\t "));
}

TEST(ExprParser, RubinGoodCasesParseAndNormalise) {
  for (const Good& g : kRubinGood) {
    SCOPED_TRACE(g.text);
    EXPECT_EQ(normalised(g.text), g.str);
  }
}

TEST(ExprParser, NormalisedTextParsesBackToTheSameTree) {
  std::vector<std::string> extra = {"- 1..2", "x - -5", "--x", "- +5", "-(x)", "x-1",
                                    "a NOT IN (f(1), POINT(1, 2), -3)", "NOT NOT a"};
  for (const Good& g : kRubinGood) extra.emplace_back(g.text);
  for (const std::string& text : extra) {
    SCOPED_TRACE(text);
    Expr first = parse(text);
    Expr second = parse(first.str());
    EXPECT_EQ(second.str(), first.str());
    EXPECT_EQ(shape(second), shape(first));
  }
}

// ---- node kinds and fields -----------------------------------------------------------

TEST(ExprParser, NodeKindsAndFields) {
  Expr e = parse("a = 10");
  ASSERT_EQ(e.kind(), NodeKind::kBinaryOp);
  const auto& eq = e.get<BinaryOp>();
  EXPECT_EQ(eq.op, BinaryOperator::kEq);
  EXPECT_EQ(eq.lhs->get<Identifier>().parts, std::vector<std::string>{"a"});
  EXPECT_EQ(eq.rhs->get<NumericLiteral>().integer, 10);
  EXPECT_EQ(e.pos, (SourcePos{0, 1, 1}));
  EXPECT_EQ(eq.op_pos, (SourcePos{2, 1, 3}));
  EXPECT_EQ(eq.rhs->pos, (SourcePos{4, 1, 5}));

  Expr id = parse("visit.timespan.begin");
  EXPECT_EQ(id.get<Identifier>().parts, (std::vector<std::string>{"visit", "timespan", "begin"}));
  EXPECT_EQ(id.get<Identifier>().name(), "visit.timespan.begin");

  EXPECT_EQ(parse(":band").get<Bind>().name, "band");
  EXPECT_EQ(parse("'HSC'").get<StringLiteral>().value, "HSC");

  Expr range_tree = parse("1..10:3");
  const auto* range = range_tree.as<RangeLiteral>();
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 1);
  EXPECT_EQ(range->stop, 10);
  EXPECT_EQ(range->step(), 3);
  EXPECT_EQ(parse("5..15").get<RangeLiteral>().stride, std::nullopt);
  EXPECT_EQ(parse("5..15").get<RangeLiteral>().step(), 1);

  Expr time_tree = parse("T'2020-01-01T00:00:00'");
  const auto* time = time_tree.as<TimeLiteral>();
  ASSERT_TRUE(time);
  EXPECT_EQ(time->value, TaiTime::from_utc_iso("2020-01-01T00:00:00"));
  EXPECT_EQ(time->format, "isot");
  EXPECT_EQ(time->scale, "utc");
  EXPECT_EQ(parse("t'51544.0'").get<TimeLiteral>().value, TaiTime::from_mjd_tai(51544.0));

  Expr in_tree = parse("x NOT IN (1, :b, c)");
  const auto* in = in_tree.as<IsIn>();
  ASSERT_TRUE(in);
  EXPECT_TRUE(in->negated);
  ASSERT_EQ(in->items.size(), 3u);
  EXPECT_EQ(in->items[1].kind(), NodeKind::kBind);
  EXPECT_EQ(in->items[2].kind(), NodeKind::kIdentifier);

  Expr tuple_tree = parse("(:t1, T'2020-01-01')");
  const auto* tuple = tuple_tree.as<Tuple>();
  ASSERT_TRUE(tuple);
  EXPECT_EQ(tuple->first->kind(), NodeKind::kBind);
  EXPECT_EQ(tuple->second->kind(), NodeKind::kTimeLiteral);

  Expr call_tree = parse("anything(1, 'a')");
  const auto* call = call_tree.as<FunctionCall>();
  ASSERT_TRUE(call);
  EXPECT_EQ(call->name, "anything");
  EXPECT_EQ(call->args.size(), 2u);
  EXPECT_EQ(parse("f()").get<FunctionCall>().args.size(), 0u);
}

TEST(ExprParser, NumericLiterals) {
  auto num = [](std::string_view text) { return parse(text).get<NumericLiteral>(); };
  EXPECT_EQ(num("42").integer, 42);
  EXPECT_DOUBLE_EQ(num("42").value, 42.0);
  EXPECT_EQ(num("1.e5").integer, std::nullopt);
  EXPECT_DOUBLE_EQ(num("1.e5").value, 1e5);
  EXPECT_DOUBLE_EQ(num(".5e-2").value, 0.005);
  // A sign right before a number is part of the literal.
  EXPECT_EQ(num("- 10").text, "-10");
  EXPECT_EQ(num("-10").integer, -10);
  EXPECT_EQ(num("+7").text, "+7");
  EXPECT_EQ(num("+7").integer, 7);
  EXPECT_EQ(num("-9223372036854775808").integer, INT64_MIN);
  EXPECT_EQ(num("99999999999999999999").integer, std::nullopt);
  EXPECT_DOUBLE_EQ(num("99999999999999999999").value, 1e20);
  EXPECT_DOUBLE_EQ(num("-2.5").value, -2.5);
  EXPECT_NE(reason_of("x = 1e999").find("Number out of range"), std::string::npos);
}

TEST(ExprParser, SpecialFunctionsAreDistinctKinds) {
  EXPECT_EQ(parse("POINT(1, 2)").kind(), NodeKind::kPoint);
  EXPECT_EQ(parse("point(1, 2)").kind(), NodeKind::kPoint);
  EXPECT_EQ(parse("Circle(1, 2, 3)").kind(), NodeKind::kCircle);
  EXPECT_EQ(parse("BOX(1, 2, 3, 4)").kind(), NodeKind::kBox);
  EXPECT_EQ(parse("POLYGON(0, 0, 1, 0, 1, 1, 0, 1)").get<PolygonCall>().vertex_count(), 4u);
  EXPECT_EQ(parse("REGION(:r)").kind(), NodeKind::kRegion);
  EXPECT_EQ(parse("GLOB(a.b, 'x*')").kind(), NodeKind::kGlob);
  Expr uuid_tree = parse("uuid('38A42B54-0822-4dce-93b7-47e9b0d8ad66')");
  const auto* uuid = uuid_tree.as<UuidCall>();
  ASSERT_TRUE(uuid);
  EXPECT_EQ(uuid->value.str(), "38a42b54-0822-4dce-93b7-47e9b0d8ad66");

  Expr circle_tree = parse("CIRCLE(320., -0.25, :r)");
  const auto* circle = circle_tree.as<CircleCall>();
  ASSERT_TRUE(circle);
  EXPECT_EQ(circle->ra->get<NumericLiteral>().text, "320.");
  EXPECT_EQ(circle->dec->get<NumericLiteral>().text, "-0.25");
  EXPECT_EQ(circle->radius->get<Bind>().name, "r");

  Expr glob_tree = parse("glob((instrument.name), (:pattern))");
  const auto* glob = glob_tree.as<GlobCall>();
  ASSERT_TRUE(glob);
  EXPECT_EQ(glob->column->kind(), NodeKind::kIdentifier);  // parentheses removed
  EXPECT_EQ(glob->pattern->kind(), NodeKind::kBind);

  // Numeric arguments may be identifiers, binds, arithmetic and other functions.
  EXPECT_EQ(normalised("POINT(ra + 1, -(dec))"), "POINT(ra + 1, -(dec))");
  EXPECT_EQ(normalised("POINT(f(1), 2 % 3)"), "POINT(f(1), 2 % 3)");
}

// ---- precedence ----------------------------------------------------------------------

TEST(ExprParser, Precedence) {
  EXPECT_EQ(shape("a OR b AND c"), "(OR a (AND b c))");
  EXPECT_EQ(shape("a AND b OR c"), "(OR (AND a b) c)");
  EXPECT_EQ(shape("a OR b OR c"), "(OR (OR a b) c)");
  EXPECT_EQ(shape("a AND b AND c"), "(AND (AND a b) c)");
  // Longer chains of AND or OR are balanced, terms in order (both are associative).
  EXPECT_EQ(shape("a OR b OR c OR d"), "(OR (OR a b) (OR c d))");
  EXPECT_EQ(shape("a AND b AND c AND d AND e"), "(AND (AND (AND a b) c) (AND d e))");
  EXPECT_EQ(shape("a OR b AND c AND d OR e"), "(OR (OR a (AND (AND b c) d)) e)");
  // The other binary operators stay left-deep.
  EXPECT_EQ(shape("a + b + c + d"), "(+ (+ (+ a b) c) d)");
  // NOT prefixes a whole comparison, and binds tighter than AND and OR.
  EXPECT_EQ(shape("NOT a = b"), "(NOT (= a b))");
  EXPECT_EQ(shape("NOT a AND b"), "(AND (NOT a) b)");
  EXPECT_EQ(shape("NOT a OR b"), "(OR (NOT a) b)");
  EXPECT_EQ(shape("a AND NOT b"), "(AND a (NOT b))");
  EXPECT_EQ(shape("NOT NOT a"), "(NOT (NOT a))");
  EXPECT_EQ(shape("NOT a IN (1)"), "(NOT (IN a 1))");
  // Comparisons are left-recursive on one level, OVERLAPS included (rejected later).
  EXPECT_EQ(shape("a = b = c"), "(= (= a b) c)");
  EXPECT_EQ(shape("a < b = c"), "(= (< a b) c)");
  EXPECT_EQ(shape("a = b < c"), "(< (= a b) c)");
  EXPECT_EQ(shape("a OVERLAPS b = c"), "(= (OVERLAPS a b) c)");
  EXPECT_EQ(shape("a OVERLAPS b AND c"), "(AND (OVERLAPS a b) c)");
  // Arithmetic.
  EXPECT_EQ(shape("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(shape("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(shape("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(shape("a / b % c"), "(% (/ a b) c)");
  EXPECT_EQ(shape("-a * b"), "(* (- a) b)");
  EXPECT_EQ(shape("a + b = c * d"), "(= (+ a b) (* c d))");
  EXPECT_EQ(shape("x - -5"), "(- x -5)");
  EXPECT_EQ(shape("x -1"), "(- x 1)");
  EXPECT_EQ(shape("- -x"), "(- (- x))");
  // IN takes an arithmetic operand and sits below comparisons.
  EXPECT_EQ(shape("a + 1 IN (1, 2)"), "(IN (+ a 1) 1 2)");
  EXPECT_EQ(shape("a = b IN (1)"), "(= a (IN b 1))");
  EXPECT_EQ(shape("a NOT IN (1) OR b"), "(OR (NOT-IN a 1) b)");
  // Parentheses are kept.
  EXPECT_EQ(shape("(a OR b) AND c"), "(AND [(OR a b)] c)");
}

TEST(ExprParser, KeywordsAnyCase) {
  EXPECT_EQ(normalised("a iN (1) oR b AnD NoT c OvErLaPs d"), "a IN (1) OR b AND NOT c OVERLAPS d");
  EXPECT_EQ(normalised("a not in (1)"), "a NOT IN (1)");
}

// ---- the ✗ cases of spec/butler.md §4 -------------------------------------------------

TEST(ExprParser, RubinSyntaxErrors) {
  ExpressionError tuple = error_of("(1, 2, 3)");
  EXPECT_EQ(tuple.position(), (SourcePos{5, 1, 6}));
  EXPECT_EQ(tuple.reason(), "Syntax error at or near ',' (line: 1, pos: 6)");
  EXPECT_EQ(reason_of("point(1, 2) in region1"), "Syntax error at or near 'region1' (line: 1, pos: 16)");
  EXPECT_EQ(reason_of("point(1, 2) in (x + y)"), "Syntax error at or near '+' (line: 1, pos: 19)");
  EXPECT_EQ(reason_of("f.ff()"), "Syntax error at or near '(' (line: 1, pos: 5)");
  ExpressionError time = error_of("T'not-a-time'");
  EXPECT_EQ(time.position(), (SourcePos{0, 1, 1}));
  EXPECT_EQ(time.reason().rfind("Invalid time literal T'not-a-time': ", 0), 0u) << time.reason();
  EXPECT_NE(time.reason().find("(line: 1, pos: 1)"), std::string::npos);
}

TEST(ExprParser, RubinLexerErrorsSurfaceFromTheParser) {
  for (const char* text : {":1", ".id", "id.id.id.id", "a \n& b", "1e5.e2", "'string", "'a\nb'",
                           "1..2:0", "1..2:-10"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(reason_of(text).rfind("Unexpected character at position ", 0), 0u);
  }
  EXPECT_EQ(error_of("a \n& b").position(), (SourcePos{3, 2, 1}));
}

TEST(ExprParser, RubinSpecialFunctionErrors) {
  struct Bad {
    const char* text;
    const char* reason;
  };
  const std::vector<Bad> bad = {
      {"Circle()", "CIRCLE requires 3 arguments (ra, dec, radius), got 0 (line: 1, pos: 1)"},
      {"Circle(0., 0.)", "CIRCLE requires 3 arguments (ra, dec, radius), got 2 (line: 1, pos: 1)"},
      {"Circle('1', 1, 1)",
       "CIRCLE argument 1 (ra) must be numeric, not string literal (line: 1, pos: 8)"},
      {"box(:a IN (100), 1, 1, 1)",
       "BOX argument 1 (ra) must be numeric, not IN expression (line: 1, pos: 5)"},
      {"POLYGON(0., 0., 1., 1.)",
       "POLYGON requires an even number of arguments, at least 6 (ra1, dec1, ra2, dec2, ra3, "
       "dec3, ...), got 4 (line: 1, pos: 1)"},
      {"polygon(0,0,1,0,1,1,2)",
       "POLYGON requires an even number of arguments, at least 6 (ra1, dec1, ra2, dec2, ra3, "
       "dec3, ...), got 7 (line: 1, pos: 1)"},
      {"REGION()", "REGION requires 1 argument (a string or a bind), got 0 (line: 1, pos: 1)"},
      {"region(a = b)",
       "REGION argument 1 (region) must be a string literal or a bind, not binary operation "
       "(line: 1, pos: 8)"},
      {"glob('string', '*')",
       "GLOB argument 1 (column) must be an identifier, not string literal (line: 1, pos: 6)"},
      {"glob(group, id)",
       "GLOB argument 2 (pattern) must be a string literal or a bind, not identifier "
       "(line: 1, pos: 13)"},
      {"GLOB(full_name, full_name)",
       "GLOB argument 2 (pattern) must be a string literal or a bind, not identifier "
       "(line: 1, pos: 17)"},
      {"POINT(1)", "POINT requires 2 arguments (ra, dec), got 1 (line: 1, pos: 1)"},
      {"POINT(1, T'2020-01-01')",
       "POINT argument 2 (dec) must be numeric, not time literal (line: 1, pos: 10)"},
      {"BOX(1, 2, 3)", "BOX requires 4 arguments (ra, dec, width, height), got 3 (line: 1, pos: 1)"},
      {"CIRCLE(1, 2, a = b)",
       "CIRCLE argument 3 (radius) must be numeric, not binary operation (line: 1, pos: 14)"},
      {"UUID(:id)", "UUID argument must be a string literal, not bind (line: 1, pos: 6)"},
      {"UUID('nope')", "'nope' is not a valid UUID (line: 1, pos: 6)"},
      {"UUID()", "UUID requires 1 argument (a string), got 0 (line: 1, pos: 1)"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.text);
    EXPECT_EQ(reason_of(b.text), b.reason);
  }
}

TEST(ExprParser, OtherSyntaxErrors) {
  EXPECT_EQ(reason_of("a = NOT b"), "Syntax error at or near 'NOT' (line: 1, pos: 5)");
  EXPECT_EQ(reason_of("a IN (1) IN (2)"), "Syntax error at or near 'IN' (line: 1, pos: 10)");
  EXPECT_EQ(reason_of("a NOT b"), "Syntax error at or near 'b' (line: 1, pos: 7)");
  EXPECT_EQ(reason_of("a IN ()"), "Syntax error at or near ')' (line: 1, pos: 7)");
  EXPECT_EQ(reason_of("a IN (a.b)"), "Syntax error at or near 'a.b' (line: 1, pos: 7)");
  EXPECT_EQ(reason_of("a IN ((1))"), "Syntax error at or near '(' (line: 1, pos: 7)");
  EXPECT_EQ(reason_of("a IN (- x)"), "Syntax error at or near 'x' (line: 1, pos: 9)");
  EXPECT_EQ(reason_of("f(a,)"), "Syntax error at or near ')' (line: 1, pos: 5)");
  EXPECT_EQ(reason_of("a == 1"), "Syntax error at or near '=' (line: 1, pos: 4)");
  EXPECT_EQ(reason_of("x-1..3"), "Syntax error at or near '-1..3' (line: 1, pos: 2)");
  EXPECT_EQ(reason_of("a b"), "Syntax error at or near 'b' (line: 1, pos: 3)");
  EXPECT_EQ(reason_of("()"), "Syntax error at or near ')' (line: 1, pos: 2)");
  EXPECT_EQ(reason_of("T''"), "Invalid time literal T'': empty time literal (line: 1, pos: 1)");
  // Long tokens are shortened in the message.
  EXPECT_EQ(reason_of("a '" + std::string(100, 'x') + "'"),
            "Syntax error at or near ''" + std::string(39, 'x') + "...' (line: 1, pos: 3)");
}

TEST(ExprParser, EndOfInput) {
  for (const char* text : {"a =", "(a", "a IN (1,", "f(", "NOT", "a AND", "-"}) {
    SCOPED_TRACE(text);
    ExpressionError e = error_of(text);
    EXPECT_EQ(e.reason(), "End of input reached while expecting further input");
    EXPECT_EQ(e.position().offset, std::string_view(text).size());
  }
}

// ---- error messages ------------------------------------------------------------------

TEST(ExprParser, ErrorMessageQuotesTheExpressionWithACaret) {
  ExpressionError e = error_of("visit = = 3");
  EXPECT_TRUE(dynamic_cast<const InvalidQueryError*>(&e));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidQuery);
  EXPECT_EQ(std::string(e.what()),
            "Failed to parse expression \"visit = = 3\":\n"
            "  visit = = 3\n"
            "          ^ Syntax error at or near '=' (line: 1, pos: 9)");
  EXPECT_EQ(e.expression(), "visit = = 3");
  EXPECT_EQ(e.position(), (SourcePos{8, 1, 9}));
}

TEST(ExprParser, ErrorMessageShowsTheLineOfAMultiLineExpression) {
  ExpressionError e = error_of("instrument = 'HSC'\nAND\tvisit = = 3");
  EXPECT_EQ(std::string(e.what()),
            "Failed to parse expression \"instrument = 'HSC'\nAND\tvisit = = 3\":\n"
            "  AND\tvisit = = 3\n"
            "     \t        ^ Syntax error at or near '=' (line: 2, pos: 13)");
}

TEST(ExprParser, ErrorMessageAtEndOfInput) {
  EXPECT_EQ(std::string(error_of("a = ").what()),
            "Failed to parse expression \"a = \":\n"
            "  a = \n"
            "      ^ End of input reached while expecting further input");
}

TEST(ExprParser, ErrorMessageOfAHugeExpressionStaysShort) {
  std::string text = "a = 1 AND " + std::string(1'000'000, ' ') + "b = = 2" + std::string(1'000'000, ' ');
  ExpressionError e = error_of(text);
  EXPECT_LT(std::string(e.what()).size(), 800u);
  EXPECT_NE(std::string(e.what()).find("(2000017 characters)"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("\n  ...    "), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("   b = = 2   "), std::string::npos) << e.what();
  EXPECT_EQ(e.position().offset, 1'000'014u);
}

TEST(ExprParser, LaterStagesCanReuseTheErrorFormat) {
  ExpressionError e("foo.bar = 12", SourcePos{0, 1, 1}, "Unrecognized identifier 'foo.bar'",
                    "Invalid expression");
  EXPECT_EQ(std::string(e.what()),
            "Invalid expression \"foo.bar = 12\":\n"
            "  foo.bar = 12\n"
            "  ^ Unrecognized identifier 'foo.bar'");
}

// ---- malicious input -----------------------------------------------------------------

TEST(ExprParser, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(10'000, '(') + "a" + std::string(10'000, ')');
  EXPECT_NE(reason_of(deep).find("Expression nested too deeply (more than 500 levels)"), std::string::npos);
  EXPECT_NE(reason_of(std::string(10'000, '-') + "x").find("nested too deeply"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 10'000; ++i) nots += "NOT ";
  EXPECT_NE(reason_of(nots + "a").find("nested too deeply"), std::string::npos);
  std::string calls;
  for (int i = 0; i < 10'000; ++i) calls += "f(";
  EXPECT_NE(reason_of(calls + "1" + std::string(10'000, ')')).find("nested too deeply"), std::string::npos);
  // Real nesting inside a long flat chain is still nesting.
  std::string chain = "a";
  for (int i = 0; i < 1'000; ++i) chain += " OR a";
  EXPECT_NE(reason_of(chain + " OR " + std::string(10'000, '(') + "a" + std::string(10'000, ')'))
                .find("nested too deeply"),
            std::string::npos);
  // 1 MB of "a+a+a…": refused at the 500th operator, quickly.
  std::string sum = "a";
  while (sum.size() < 1'000'000) sum += "+a";
  auto start = std::chrono::steady_clock::now();
  EXPECT_NE(reason_of(sum).find("nested too deeply"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2) * MAJORDOME_TEST_SLOWDOWN);
}

TEST(ExprParser, NestingBelowTheLimitParses) {
  const std::string deep = std::string(400, '(') + "a" + std::string(400, ')');
  EXPECT_EQ(parse(deep).str(), deep);
  std::string chain = "visit = 0";
  for (int i = 1; i < 200; ++i) chain += " OR visit = " + std::to_string(i);
  EXPECT_EQ(parse(chain).str(), chain);
  int count = 0;
  walk(parse(chain), [&count](const Expr& e) { count += e.kind() == NodeKind::kNumericLiteral; });
  EXPECT_EQ(count, 200);
}

int height(const Expr& e) {
  int below = 0;
  for_each_child(e, [&below](const Expr& child) { below = std::max(below, height(child)); });
  return below + 1;
}

TEST(ExprParser, FlatChainsOfOrAndAndAreNotNesting) {
  // What users generate instead of IN: 100,000 terms, far beyond kMaxExpressionDepth.
  for (const char* op : {" OR ", " AND "}) {
    SCOPED_TRACE(op);
    std::string chain = "visit = 0";
    for (int i = 1; i < 100'000; ++i) chain += op + ("visit = " + std::to_string(i));
    auto start = std::chrono::steady_clock::now();
    const Expr e = parse(chain);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5) * MAJORDOME_TEST_SLOWDOWN);
    EXPECT_EQ(e.str(), chain);
    // log2(100,000) levels of AND/OR above the comparisons, not 100,000.
    EXPECT_LE(height(e), 20);
    std::vector<std::int64_t> order;
    walk(e, [&order](const Expr& x) {
      if (const auto* n = x.as<NumericLiteral>()) order.push_back(*n->integer);
    });
    ASSERT_EQ(order.size(), 100'000u);
    for (std::size_t i = 0; i < order.size(); ++i) ASSERT_EQ(order[i], static_cast<std::int64_t>(i));
  }
  // Chains of AND inside chains of OR inside parentheses, each long.
  std::string mixed;
  for (int i = 0; i < 2'000; ++i) mixed += (i ? " OR " : "") + ("(a = " + std::to_string(i) + " AND b = 1 AND c = 2)");
  EXPECT_EQ(parse("x = 1 AND (" + mixed + ")").str(), "x = 1 AND (" + mixed + ")");
}

TEST(ExprParser, LongInListsDoNotNest) {
  std::string text = "visit IN (";
  for (int i = 0; i < 100'000; ++i) text += (i ? ", " : "") + std::to_string(i);
  text += ")";
  Expr e = parse(text);
  EXPECT_EQ(e.get<IsIn>().items.size(), 100'000u);
}

TEST(ExprParser, MegabyteStringLiteralIsLinear) {
  const std::string big(1 << 20, 'x');
  auto start = std::chrono::steady_clock::now();
  Expr e = parse("name = '" + big + "'");
  EXPECT_EQ(e.get<BinaryOp>().rhs->get<StringLiteral>().value.size(), big.size());
  // Unterminated: an error, with a short message.
  ExpressionError error = error_of("name = '" + big);
  EXPECT_EQ(error.position().offset, 7u);
  EXPECT_LT(std::string(error.what()).size(), 800u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2) * MAJORDOME_TEST_SLOWDOWN);
}

TEST(ExprParser, SqlInjectionIsJustAString) {
  Expr e = parse("instrument = '; DROP TABLE x; --'");
  EXPECT_EQ(e.get<BinaryOp>().rhs->get<StringLiteral>().value, "; DROP TABLE x; --");
  EXPECT_EQ(reason_of("instrument = 'x'; DROP TABLE x; --"),
            "Unexpected character at position 16 (line: 1, pos: 17)");
  EXPECT_EQ(reason_of("'; DROP TABLE x; --"), "Unexpected character at position 0 (line: 1, pos: 1)");
}

// ---- walking the tree ----------------------------------------------------------------

TEST(ExprParser, VisitorHelpers) {
  Expr e = parse("a = 1 AND b IN (2, :c) OR CIRCLE(1, 2, 3) OVERLAPS region.x");
  std::vector<std::string> identifiers;
  walk(e, [&identifiers](const Expr& node) {
    if (const auto* id = node.as<Identifier>()) identifiers.push_back(id->name());
  });
  EXPECT_EQ(identifiers, (std::vector<std::string>{"a", "b", "region.x"}));

  std::vector<NodeKind> children;
  for_each_child(e, [&children](const Expr& c) { children.push_back(c.kind()); });
  EXPECT_EQ(children, (std::vector<NodeKind>{NodeKind::kBinaryOp, NodeKind::kBinaryOp}));

  auto describe = [](const Expr& node) {
    return node.visit(Overloaded{
        [](const BinaryOp& n) { return std::string(operator_text(n.op)); },
        [](const CircleCall&) { return std::string("circle"); },
        [](const auto&) { return std::string("other"); },
    });
  };
  EXPECT_EQ(describe(e), "OR");
  EXPECT_EQ(describe(*e.get<BinaryOp>().rhs->get<BinaryOp>().lhs), "circle");
  EXPECT_EQ(node_kind_name(NodeKind::kGlob), "GLOB() call");
}

}  // namespace
}  // namespace majordome::query
