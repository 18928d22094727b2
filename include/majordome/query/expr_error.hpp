// Source positions in a query expression, and the error that points at one.
//
// Every failure to read a where-expression (lexer, parser, time literal, special-function
// arity) is thrown as an ExpressionError, which is an InvalidQueryError, so callers that
// only care about "the query is wrong" catch InvalidQueryError. The message quotes the
// expression and draws a caret under the offending position:
//
//   Failed to parse expression "visit = = 3":
//     visit = = 3
//             ^ Syntax error at or near '=' (line: 1, pos: 9)
//
// Later stages (the binder) throw the same type with their own headline so users see one
// format for every mistake in an expression.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "majordome/core/error.hpp"

namespace majordome::query {

// A position in the expression text. `offset` counts bytes from the start (0-based, as
// Rubin's "position N"); `line` is 1-based; `column` is 1-based bytes within the line (as
// Rubin's "pos: P").
struct SourcePos {
  std::size_t offset = 0;
  int line = 1;
  int column = 1;

  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

// The position of byte `offset` in `text` (offset may equal text.size(): end of input).
// Linear in `offset`; the lexer tracks positions incrementally instead.
SourcePos source_pos_at(std::string_view text, std::size_t offset);

class ExpressionError : public InvalidQueryError {
 public:
  static constexpr std::string_view kParseHeadline = "Failed to parse expression";

  // `reason` is the one-line explanation printed after the caret, e.g.
  // "Syntax error at or near '=' (line: 1, pos: 9)".
  ExpressionError(std::string_view expression, SourcePos pos, std::string reason,
                  std::string_view headline = kParseHeadline);

  const std::string& expression() const { return expression_; }
  SourcePos position() const { return pos_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string expression_;
  SourcePos pos_;
  std::string reason_;
};

// The full message ExpressionError carries: headline with the quoted expression, the line
// holding `pos`, and a caret line ending with `reason`. Very long expressions and lines are
// shortened around `pos` and control characters are shown as '?', so the message stays
// readable whatever the input.
std::string format_expression_error(std::string_view expression, SourcePos pos,
                                    std::string_view reason,
                                    std::string_view headline = ExpressionError::kParseHeadline);

}  // namespace majordome::query
