#include "majordome/query/expr_error.hpp"

#include <algorithm>

namespace majordome::query {
namespace {

// Past these sizes the message shows an excerpt: a 1 MB expression must not produce a
// 2 MB error message.
constexpr std::size_t kMaxQuoted = 200;
constexpr std::size_t kLineWindow = 80;  // bytes shown on each side of the error

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

void append_sanitized(std::string& out, std::string_view text, bool keep_newlines) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    out += (is_control(c) && c != '\t' && !(keep_newlines && c == '\n')) ? '?' : ch;
  }
}

}  // namespace

SourcePos source_pos_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  SourcePos pos{offset, 1, 1};
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      line_start = i + 1;
    }
  }
  pos.column = static_cast<int>(offset - line_start) + 1;
  return pos;
}

std::string format_expression_error(std::string_view expression, SourcePos pos,
                                    std::string_view reason, std::string_view headline) {
  std::string out(headline);
  out += " \"";
  if (expression.size() <= kMaxQuoted) {
    append_sanitized(out, expression, true);
    out += "\":\n";
  } else {
    append_sanitized(out, expression.substr(0, kMaxQuoted), true);
    out += "...\" (" + std::to_string(expression.size()) + " characters):\n";
  }

  const std::size_t offset = std::min(pos.offset, expression.size());
  const std::size_t newline_before = offset == 0 ? std::string_view::npos
                                                 : expression.rfind('\n', offset - 1);
  const std::size_t line_begin = newline_before == std::string_view::npos ? 0 : newline_before + 1;
  std::size_t line_end = expression.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = expression.size();

  const std::size_t begin = offset - line_begin > kLineWindow ? offset - kLineWindow : line_begin;
  const std::size_t end = line_end - offset > kLineWindow ? offset + kLineWindow : line_end;
  const std::string_view ellipsis = "...";

  out += "  ";
  if (begin > line_begin) out += ellipsis;
  append_sanitized(out, expression.substr(begin, end - begin), false);
  if (end < line_end) out += ellipsis;
  out += "\n  ";
  if (begin > line_begin) out.append(ellipsis.size(), ' ');
  // Mirror tabs so the caret lines up; UTF-8 continuation bytes take no column.
  for (std::size_t i = begin; i < offset; ++i) {
    auto c = static_cast<unsigned char>(expression[i]);
    if (c == '\t') {
      out += '\t';
    } else if ((c & 0xC0) != 0x80) {
      out += ' ';
    }
  }
  out += "^ ";
  out += reason;
  return out;
}

ExpressionError::ExpressionError(std::string_view expression, SourcePos pos, std::string reason,
                                 std::string_view headline)
    : InvalidQueryError(format_expression_error(expression, pos, reason, headline)),
      expression_(expression),
      pos_(pos),
      reason_(std::move(reason)) {}

}  // namespace majordome::query
