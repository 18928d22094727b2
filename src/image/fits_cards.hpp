// Conversion between Card values and FITS 80-character card images (private).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "majordome/image/header.hpp"

namespace majordome::image::detail {

inline constexpr std::size_t kCardLength = 80;

// The card images of one card: one, or several for a long string (CONTINUE convention) or
// a long commentary text (several COMMENT cards). Each exactly 80 characters.
std::vector<std::string> format_card(const Card& card);

// Parses concatenated 80-character card images (stopping at END), joining CONTINUE
// cards into the string they continue and removing the HIERARCH prefix.
// `context` names the file and HDU for error messages (CorruptFileError).
std::vector<Card> parse_cards(std::string_view text, const std::string& context);

// True for the COMMENT cards cfitsio adds by itself (the FITS reference in primary
// headers, the explanation after LONGSTRN): writers skip them so that copying a header
// does not repeat them.
bool is_cfitsio_boilerplate(const Card& card);

// Upper-case ASCII copy.
std::string to_upper(std::string_view s);
// ASCII case-insensitive equality. Inline: header lookups call it once per card.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace majordome::image::detail
