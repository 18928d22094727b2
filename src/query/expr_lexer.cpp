#include "majordome/query/expr_lexer.hpp"

#include <array>
#include <charconv>
#include <string>

namespace majordome::query {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word(char c) { return is_ident_start(c) || is_digit(c); }
// Python's \s, which the RANGE pattern allows around ".." and ":".
bool is_regex_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != b[i]) return false;
  }
  return true;
}

TokenKind identifier_kind(std::string_view word) {
  struct Keyword {
    std::string_view upper;
    TokenKind kind;
  };
  static constexpr std::array<Keyword, 5> kKeywords{{{"IN", TokenKind::kIn},
                                                     {"OR", TokenKind::kOr},
                                                     {"AND", TokenKind::kAnd},
                                                     {"NOT", TokenKind::kNot},
                                                     {"OVERLAPS", TokenKind::kOverlaps}}};
  for (const auto& k : kKeywords) {
    if (iequals(word, k.upper)) return k.kind;
  }
  return TokenKind::kSimpleIdentifier;
}

}  // namespace

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEnd: return "end of input";
    case TokenKind::kNumeric: return "NUMERIC";
    case TokenKind::kString: return "STRING";
    case TokenKind::kTime: return "TIME";
    case TokenKind::kRange: return "RANGE";
    case TokenKind::kSimpleIdentifier: return "SIMPLE_IDENTIFIER";
    case TokenKind::kQualifiedIdentifier: return "QUALIFIED_IDENTIFIER";
    case TokenKind::kBind: return "BIND";
    case TokenKind::kIn: return "IN";
    case TokenKind::kOr: return "OR";
    case TokenKind::kAnd: return "AND";
    case TokenKind::kNot: return "NOT";
    case TokenKind::kOverlaps: return "OVERLAPS";
    case TokenKind::kLeftParen: return "(";
    case TokenKind::kRightParen: return ")";
    case TokenKind::kComma: return ",";
    case TokenKind::kEq: return "=";
    case TokenKind::kNe: return "!=";
    case TokenKind::kLt: return "<";
    case TokenKind::kLe: return "<=";
    case TokenKind::kGt: return ">";
    case TokenKind::kGe: return ">=";
    case TokenKind::kPlus: return "+";
    case TokenKind::kMinus: return "-";
    case TokenKind::kStar: return "*";
    case TokenKind::kSlash: return "/";
    case TokenKind::kPercent: return "%";
  }
  return "?";
}

std::string_view Token::value() const {
  switch (kind) {
    case TokenKind::kString: return text.substr(1, text.size() - 2);
    case TokenKind::kTime: return text.substr(2, text.size() - 3);
    case TokenKind::kBind: return text.substr(1);
    default: return text;
  }
}

SourcePos Lexer::pos_of(std::size_t offset) const {
  return SourcePos{offset, line_, static_cast<int>(offset - line_start_) + 1};
}

void Lexer::fail_at(std::size_t offset, std::string reason) const {
  SourcePos pos = pos_of(offset);
  throw ExpressionError(text_, pos,
                        reason + " at position " + std::to_string(offset) +
                            " (line: " + std::to_string(pos.line) +
                            ", pos: " + std::to_string(pos.column) + ")");
}

void Lexer::skip_blanks() {
  while (offset_ < text_.size()) {
    char c = text_[offset_];
    if (c == '\n') {
      ++line_;
      line_start_ = offset_ + 1;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      return;
    }
    ++offset_;
  }
}

std::size_t Lexer::skip_regex_space(std::size_t offset) const {
  while (offset < text_.size() && is_regex_space(text_[offset])) ++offset;
  return offset;
}

// (-?\d+)\s*\.\.\s*(-?\d+)(\s*:\s*([1-9]\d*))? at offset_; false (and no change) when the
// text there is not a range, so the caller tries a number.
bool Lexer::lex_range(Token& token) {
  auto integer = [this](std::size_t i) {  // end of -?\d+ at i, or i when absent
    std::size_t j = i;
    if (at(j, '-')) ++j;
    if (j >= text_.size() || !is_digit(text_[j])) return i;
    while (j < text_.size() && is_digit(text_[j])) ++j;
    return j;
  };
  const std::size_t start = offset_;
  const std::size_t start_end = integer(start);
  if (start_end == start) return false;
  std::size_t i = skip_regex_space(start_end);
  if (!at(i, '.') || !at(i + 1, '.')) return false;
  const std::size_t stop_begin = skip_regex_space(i + 2);
  const std::size_t stop_end = integer(stop_begin);
  if (stop_end == stop_begin) return false;
  std::size_t end = stop_end;
  std::size_t stride_begin = 0;
  i = skip_regex_space(stop_end);
  if (at(i, ':')) {
    i = skip_regex_space(i + 1);
    if (i < text_.size() && text_[i] >= '1' && text_[i] <= '9') {
      stride_begin = i;
      while (i < text_.size() && is_digit(text_[i])) ++i;
      end = i;
    }
  }

  auto parse = [this, start](std::size_t b, std::size_t e) {
    std::int64_t v = 0;
    auto r = std::from_chars(text_.data() + b, text_.data() + e, v);
    if (r.ec != std::errc() || r.ptr != text_.data() + e) {
      fail_at(start, "Integer range bound does not fit in 64 bits");
    }
    return v;
  };
  token.kind = TokenKind::kRange;
  token.range_start = parse(start, start_end);
  token.range_stop = parse(stop_begin, stop_end);
  if (stride_begin != 0) token.range_stride = parse(stride_begin, end);
  token.text = text_.substr(start, end - start);
  // A range may span lines through its \s*.
  for (std::size_t k = start; k < end; ++k) {
    if (text_[k] == '\n') {
      ++line_;
      line_start_ = k + 1;
    }
  }
  offset_ = end;
  return true;
}

Token Lexer::next() {
  skip_blanks();
  Token token;
  token.pos = pos_of(offset_);
  if (offset_ >= text_.size()) {
    token.text = text_.substr(text_.size());
    return token;
  }
  const std::size_t start = offset_;
  const char c = text_[start];
  const char c1 = start + 1 < text_.size() ? text_[start + 1] : '\0';
  std::size_t end = start + 1;

  // The end of a quoted run starting at `open` (a quote), or npos if a newline or the end
  // of input comes first. Linear: a 1 MB literal is scanned once.
  auto closing_quote = [this](std::size_t open) {
    std::size_t close = text_.find_first_of("'\n", open + 1);
    return close != std::string_view::npos && text_[close] == '\'' ? close
                                                                   : std::string_view::npos;
  };
  auto op = [&](TokenKind kind, std::size_t length) {
    token.kind = kind;
    end = start + length;
  };

  if ((c == 'T' || c == 't') && c1 == '\'' && closing_quote(start + 1) != std::string_view::npos) {
    token.kind = TokenKind::kTime;
    end = closing_quote(start + 1) + 1;
  } else if (c == '\'') {
    std::size_t close = closing_quote(start);
    if (close == std::string_view::npos) fail_at(start, "Unexpected character");
    token.kind = TokenKind::kString;
    end = close + 1;
  } else if ((is_digit(c) || (c == '-' && is_digit(c1))) && lex_range(token)) {
    return token;
  } else if (is_digit(c) || (c == '.' && is_digit(c1))) {
    // \d+(\.\d*)?(e[-+]?\d+)? | \.\d+(e[-+]?\d+)?
    auto digits = [this](std::size_t i) {
      while (i < text_.size() && is_digit(text_[i])) ++i;
      return i;
    };
    end = digits(start);
    if (at(end, '.')) end = digits(end + 1);
    if (at(end, 'e') || at(end, 'E')) {
      std::size_t i = end + 1;
      if (at(i, '+') || at(i, '-')) ++i;
      if (i < text_.size() && is_digit(text_[i])) end = digits(i);
    }
    token.kind = TokenKind::kNumeric;
  } else if (is_ident_start(c)) {
    auto word_end = [this](std::size_t i) {
      while (i < text_.size() && is_word(text_[i])) ++i;
      return i;
    };
    end = word_end(start);
    int parts = 1;
    while (parts < 3 && at(end, '.') && end + 1 < text_.size() && is_ident_start(text_[end + 1])) {
      end = word_end(end + 1);
      ++parts;
    }
    token.kind = parts > 1 ? TokenKind::kQualifiedIdentifier
                           : identifier_kind(text_.substr(start, end - start));
  } else if (c == ':' && is_ident_start(c1)) {
    end = start + 1;
    while (end < text_.size() && is_word(text_[end])) ++end;
    token.kind = TokenKind::kBind;
  } else {
    switch (c) {
      case '(': op(TokenKind::kLeftParen, 1); break;
      case ')': op(TokenKind::kRightParen, 1); break;
      case ',': op(TokenKind::kComma, 1); break;
      case '=': op(TokenKind::kEq, 1); break;
      case '!':
        if (c1 != '=') fail_at(start, "Unexpected character");
        op(TokenKind::kNe, 2);
        break;
      case '<': c1 == '=' ? op(TokenKind::kLe, 2) : op(TokenKind::kLt, 1); break;
      case '>': c1 == '=' ? op(TokenKind::kGe, 2) : op(TokenKind::kGt, 1); break;
      case '+': op(TokenKind::kPlus, 1); break;
      case '-': op(TokenKind::kMinus, 1); break;
      case '*': op(TokenKind::kStar, 1); break;
      case '/': op(TokenKind::kSlash, 1); break;
      case '%': op(TokenKind::kPercent, 1); break;
      default: fail_at(start, "Unexpected character");
    }
  }
  token.text = text_.substr(start, end - start);
  offset_ = end;
  return token;
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  Lexer lexer(text);
  for (Token t = lexer.next(); t.kind != TokenKind::kEnd; t = lexer.next()) tokens.push_back(t);
  return tokens;
}

}  // namespace majordome::query
