#include "majordome/core/error.hpp"

#include <fmt/format.h>

#include <utility>

namespace majordome {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kCollectionType: return "CollectionType";
    case ErrorCode::kInvalidQuery: return "InvalidQuery";
    case ErrorCode::kInvalidConfig: return "InvalidConfig";
    case ErrorCode::kIoError: return "IoError";
    case ErrorCode::kCorruptFile: return "CorruptFile";
    case ErrorCode::kDatabaseError: return "DatabaseError";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kUnsupported: return "Unsupported";
    case ErrorCode::kBusy: return "Busy";
    case ErrorCode::kCancelled: return "Cancelled";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

int exit_status(ErrorCode code) {
  // Stable numbers: scripts may test them. 1 is reserved for usage errors.
  switch (code) {
    case ErrorCode::kInvalidArgument: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kConflict: return 4;
    case ErrorCode::kCollectionType: return 5;
    case ErrorCode::kInvalidQuery: return 6;
    case ErrorCode::kInvalidConfig: return 7;
    case ErrorCode::kIoError: return 8;
    case ErrorCode::kCorruptFile: return 9;
    case ErrorCode::kDatabaseError: return 10;
    case ErrorCode::kPermissionDenied: return 11;
    case ErrorCode::kUnsupported: return 12;
    case ErrorCode::kBusy: return 13;
    case ErrorCode::kCancelled: return 14;
    case ErrorCode::kInternal: return 20;
  }
  return 20;
}

namespace {

// The length of the UTF-8 sequence starting at text[i], or 0 if it is not a valid one
// (a stray continuation byte, a truncated, overlong or surrogate sequence, or > U+10FFFF).
std::size_t utf8_length_at(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  unsigned char second = byte(i + 1);
  if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) || (c == 0xf0 && second < 0x90) ||
      (c == 0xf4 && second > 0x8f))
    return 0;
  return n;
}

// At text[i], the start of a character: {bytes it takes, whether printable() escapes it}.
// Escaped: a control character (1 byte, or 2 for a C1 character in UTF-8) or a byte that
// does not start a valid UTF-8 sequence (1 byte).
std::pair<std::size_t, bool> character_at(std::string_view text, std::size_t i) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7f) return {1, true};
  std::size_t n = utf8_length_at(text, i);
  if (n == 0) return {1, true};
  return {n, n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f};
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_length_at(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool has_control_characters(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto [n, escaped] = character_at(text, i);
    if (escaped) return true;
    i += n;
  }
  return false;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto [n, escaped] = character_at(text, i);
    if (!escaped) {
      out.append(text.substr(i, n));
    } else if (text[i] == '\n') {
      out += "\\n";
    } else if (text[i] == '\t') {
      out += "\\t";
    } else if (text[i] == '\r') {
      out += "\\r";
    } else {
      for (std::size_t k = 0; k < n; ++k) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i + k]));
    }
    i += n;
  }
  return out;
}

}  // namespace majordome
