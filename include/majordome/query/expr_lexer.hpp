// The lexer of the where-expression language (spec/butler.md §4, docs/query_language.md).
//
// Tokens are produced on demand, so an unexpected character after a syntax error is never
// reported before it. Keywords (IN OR AND NOT OVERLAPS) are case-insensitive; numbers keep
// their text; a time literal T'…' is not evaluated here (see expr_time.hpp). Only ASCII
// letters, digits and '_' form identifiers. Space, tab, carriage return and newline
// separate tokens; newlines advance the line count.
//
// Thread safety: a Lexer is a cursor over a string it does not own; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "majordome/query/expr_error.hpp"

namespace majordome::query {

enum class TokenKind {
  kEnd,                  // end of input
  kNumeric,              // 12, 1.5, 1.e5, .5e-2 (text kept verbatim, no sign)
  kString,               // 'text' (no escapes, no newline)
  kTime,                 // T'…' or t'…'
  kRange,                // -10..10 or 1..100:5 (stop inclusive, stride >= 1)
  kSimpleIdentifier,     // visit
  kQualifiedIdentifier,  // visit.id, visit.timespan.begin (2 or 3 parts)
  kBind,                 // :name
  kIn, kOr, kAnd, kNot, kOverlaps,
  kLeftParen, kRightParen, kComma,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kPlus, kMinus, kStar, kSlash, kPercent,
};

// "NUMERIC", "STRING", "IN", "=", … for messages and tests.
std::string_view token_kind_name(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // the source text of the token (a view into the expression)
  SourcePos pos;          // where the token starts

  // kRange only: the bounds and the stride as written (nullopt when absent).
  std::int64_t range_start = 0;
  std::int64_t range_stop = 0;
  std::optional<std::int64_t> range_stride;

  // kString and kTime: the text between the quotes. kBind: the name without ':'.
  std::string_view value() const;
};

class Lexer {
 public:
  // `text` must outlive the lexer and the tokens it returns.
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token; kEnd (repeatedly) at the end of input. Throws ExpressionError
  // ("Unexpected character at position N …") on a character that starts no token, and on
  // range bounds that do not fit in 64 bits.
  Token next();

 private:
  bool at(std::size_t offset, char c) const { return offset < text_.size() && text_[offset] == c; }
  SourcePos pos_of(std::size_t offset) const;
  void skip_blanks();
  std::size_t skip_regex_space(std::size_t offset) const;
  bool lex_range(Token& token);
  [[noreturn]] void fail_at(std::size_t offset, std::string reason) const;

  std::string_view text_;
  std::size_t offset_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
};

// All tokens of `text` up to but excluding kEnd. Throws like Lexer::next().
std::vector<Token> tokenize(std::string_view text);

}  // namespace majordome::query
