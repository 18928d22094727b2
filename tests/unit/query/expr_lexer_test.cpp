#include "majordome/query/expr_lexer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace majordome::query {
namespace {

using K = TokenKind;

std::vector<K> kinds(std::string_view text) {
  std::vector<K> out;
  for (const Token& t : tokenize(text)) out.push_back(t.kind);
  return out;
}

std::vector<std::string> texts(std::string_view text) {
  std::vector<std::string> out;
  for (const Token& t : tokenize(text)) out.emplace_back(t.text);
  return out;
}

// The reason of the lexer error `text` raises.
std::string lex_error(std::string_view text) {
  try {
    tokenize(text);
  } catch (const ExpressionError& e) {
    return e.reason();
  }
  return "no error";
}

TEST(ExprLexer, EmptyAndBlankInputHaveNoTokens) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize(" \t\r\n  \n").empty());
  Lexer lexer("");
  EXPECT_EQ(lexer.next().kind, K::kEnd);
  EXPECT_EQ(lexer.next().kind, K::kEnd);  // stays at the end
}

TEST(ExprLexer, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(kinds("in IN In or OR Or and AND aNd not NOT nOt overlaps OVERLAPS OverLaps"),
            (std::vector<K>{K::kIn, K::kIn, K::kIn, K::kOr, K::kOr, K::kOr, K::kAnd, K::kAnd,
                            K::kAnd, K::kNot, K::kNot, K::kNot, K::kOverlaps, K::kOverlaps,
                            K::kOverlaps}));
  // NULL, IS, BETWEEN and LIKE are not keywords; words containing keywords are identifiers.
  EXPECT_EQ(kinds("null is between like inx android"),
            std::vector<K>(6, K::kSimpleIdentifier));
}

TEST(ExprLexer, Operators) {
  EXPECT_EQ(kinds("( ) , = != < <= > >= + - * / %"),
            (std::vector<K>{K::kLeftParen, K::kRightParen, K::kComma, K::kEq, K::kNe, K::kLt,
                            K::kLe, K::kGt, K::kGe, K::kPlus, K::kMinus, K::kStar, K::kSlash,
                            K::kPercent}));
  // No == or <>: they are two tokens each (and a syntax error later).
  EXPECT_EQ(kinds("a==b"), (std::vector<K>{K::kSimpleIdentifier, K::kEq, K::kEq,
                                          K::kSimpleIdentifier}));
  EXPECT_EQ(kinds("a<>b"), (std::vector<K>{K::kSimpleIdentifier, K::kLt, K::kGt,
                                          K::kSimpleIdentifier}));
  EXPECT_EQ(lex_error("a ! b"), "Unexpected character at position 2 (line: 1, pos: 3)");
}

TEST(ExprLexer, NumbersKeepTheirText) {
  EXPECT_EQ(texts("1 12 1.5 1. 1.e5 .5e-2 1E+3 0.25e10"),
            (std::vector<std::string>{"1", "12", "1.5", "1.", "1.e5", ".5e-2", "1E+3",
                                      "0.25e10"}));
  EXPECT_EQ(kinds("1 1.5 .5"), std::vector<K>(3, K::kNumeric));
  // No sign in a number: "-1" is an operator and a number.
  EXPECT_EQ(kinds("-1"), (std::vector<K>{K::kMinus, K::kNumeric}));
  // An exponent needs digits, else the 'e' starts an identifier.
  EXPECT_EQ(kinds("1e"), (std::vector<K>{K::kNumeric, K::kSimpleIdentifier}));
}

TEST(ExprLexer, StringsHaveNoEscapesAndNoNewlines) {
  auto tokens = tokenize("'abc' '' 'it''s' '; DROP TABLE x; --'");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0].value(), "abc");
  EXPECT_EQ(tokens[1].value(), "");
  EXPECT_EQ(tokens[2].value(), "it");  // '' is not an escape: two strings
  EXPECT_EQ(tokens[3].value(), "s");
  EXPECT_EQ(tokens[4].kind, K::kString);
  EXPECT_EQ(tokens[4].value(), "; DROP TABLE x; --");
}

TEST(ExprLexer, TimeLiteralsTakePriorityOverIdentifiers) {
  auto tokens = tokenize("T'2020-01-01' t'51544.0' T < 42 xT'a'");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[0].kind, K::kTime);
  EXPECT_EQ(tokens[0].value(), "2020-01-01");
  EXPECT_EQ(tokens[1].kind, K::kTime);
  EXPECT_EQ(tokens[1].value(), "51544.0");
  EXPECT_EQ(tokens[2].kind, K::kSimpleIdentifier);
  EXPECT_EQ(tokens[5].kind, K::kSimpleIdentifier);  // xT
  EXPECT_EQ(tokens[6].kind, K::kString);            // 'a'
  // An unterminated time literal is the identifier T and a stray quote.
  EXPECT_EQ(lex_error("T'2020"), "Unexpected character at position 1 (line: 1, pos: 2)");
}

TEST(ExprLexer, Ranges) {
  auto tokens = tokenize("1..5 -10 .. 10:5 2000..3000 : 100 -5..-1 7..3");
  ASSERT_EQ(tokens.size(), 5u);
  for (const Token& t : tokens) EXPECT_EQ(t.kind, K::kRange);
  EXPECT_EQ(tokens[0].range_start, 1);
  EXPECT_EQ(tokens[0].range_stop, 5);
  EXPECT_FALSE(tokens[0].range_stride);
  EXPECT_EQ(tokens[1].range_start, -10);
  EXPECT_EQ(tokens[1].range_stop, 10);
  EXPECT_EQ(tokens[1].range_stride, 5);
  EXPECT_EQ(tokens[1].text, "-10 .. 10:5");
  EXPECT_EQ(tokens[2].range_stride, 100);
  EXPECT_EQ(tokens[3].range_start, -5);
  EXPECT_EQ(tokens[3].range_stop, -1);
  EXPECT_EQ(tokens[4].range_start, 7);  // empty, but well formed
  // A stride that is not [1-9]\d* is not part of the range; ':' then fails.
  EXPECT_EQ(lex_error("1..2:0"), "Unexpected character at position 4 (line: 1, pos: 5)");
  EXPECT_EQ(lex_error("1..2:-10"), "Unexpected character at position 4 (line: 1, pos: 5)");
  // A range followed by a bind.
  EXPECT_EQ(kinds("1..2 :b"), (std::vector<K>{K::kRange, K::kBind}));
  EXPECT_NE(lex_error("99999999999999999999..1").find("does not fit in 64 bits"),
            std::string::npos);
}

TEST(ExprLexer, Identifiers) {
  auto tokens = tokenize("visit visit.id visit.timespan.begin _x9 in.x");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0].kind, K::kSimpleIdentifier);
  EXPECT_EQ(tokens[1].kind, K::kQualifiedIdentifier);
  EXPECT_EQ(tokens[2].kind, K::kQualifiedIdentifier);
  EXPECT_EQ(tokens[2].text, "visit.timespan.begin");
  EXPECT_EQ(tokens[3].kind, K::kSimpleIdentifier);
  EXPECT_EQ(tokens[4].kind, K::kQualifiedIdentifier);  // keywords are checked on simple names only
  // "a.1" is an identifier and a number.
  EXPECT_EQ(kinds("a.1"), (std::vector<K>{K::kSimpleIdentifier, K::kNumeric}));
}

TEST(ExprLexer, Binds) {
  auto tokens = tokenize(":band :_x1");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].kind, K::kBind);
  EXPECT_EQ(tokens[0].value(), "band");
  EXPECT_EQ(tokens[1].value(), "_x1");
}

TEST(ExprLexer, PositionsCountLinesAndColumns) {
  auto tokens = tokenize("a = 1\n  AND\tb\n'x'");
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].pos, (SourcePos{0, 1, 1}));
  EXPECT_EQ(tokens[2].pos, (SourcePos{4, 1, 5}));
  EXPECT_EQ(tokens[3].pos, (SourcePos{8, 2, 3}));
  EXPECT_EQ(tokens[4].pos, (SourcePos{12, 2, 7}));
  EXPECT_EQ(tokens[5].pos, (SourcePos{14, 3, 1}));
  // A range may span lines; the next token's line is still right.
  auto spanning = tokenize("1 ..\n 5 x");
  ASSERT_EQ(spanning.size(), 2u);
  EXPECT_EQ(spanning[1].pos, (SourcePos{8, 2, 4}));
  EXPECT_EQ(source_pos_at("a\nbc", 3), (SourcePos{3, 2, 2}));
}

// The ✗ lexer cases of spec/butler.md §4.
TEST(ExprLexer, RubinLexerErrors) {
  EXPECT_EQ(lex_error(":1"), "Unexpected character at position 0 (line: 1, pos: 1)");
  EXPECT_EQ(lex_error(".id"), "Unexpected character at position 0 (line: 1, pos: 1)");
  EXPECT_EQ(lex_error("id.id.id.id"), "Unexpected character at position 8 (line: 1, pos: 9)");
  EXPECT_EQ(lex_error("a \n& b"), "Unexpected character at position 3 (line: 2, pos: 1)");
  EXPECT_EQ(lex_error("1e5.e2"), "Unexpected character at position 3 (line: 1, pos: 4)");
  EXPECT_EQ(lex_error("'string"), "Unexpected character at position 0 (line: 1, pos: 1)");
  EXPECT_EQ(lex_error("'a\nb'"), "Unexpected character at position 0 (line: 1, pos: 1)");
  EXPECT_EQ(lex_error("1..2:0"), "Unexpected character at position 4 (line: 1, pos: 5)");
  EXPECT_EQ(lex_error("1..2:-10"), "Unexpected character at position 4 (line: 1, pos: 5)");
}

TEST(ExprLexer, ErrorCarriesPositionAndQuotesTheExpression) {
  try {
    tokenize("a \n& b");
    FAIL() << "no error";
  } catch (const ExpressionError& e) {
    EXPECT_EQ(e.position(), (SourcePos{3, 2, 1}));
    EXPECT_EQ(e.expression(), "a \n& b");
    EXPECT_EQ(std::string(e.what()),
              "Failed to parse expression \"a \n& b\":\n"
              "  & b\n"
              "  ^ Unexpected character at position 3 (line: 2, pos: 1)");
  }
}

TEST(ExprLexer, NonAsciiAndControlBytesAreErrorsShownSafely) {
  EXPECT_EQ(lex_error("a = \x01"), "Unexpected character at position 4 (line: 1, pos: 5)");
  EXPECT_EQ(lex_error("caf\xc3\xa9"), "Unexpected character at position 3 (line: 1, pos: 4)");
  try {
    tokenize(std::string("a = \0", 5));
    FAIL() << "no error";
  } catch (const ExpressionError& e) {
    EXPECT_EQ(std::string(e.what()).find('\0'), std::string::npos);
  }
}

}  // namespace
}  // namespace majordome::query
