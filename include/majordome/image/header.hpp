// Header: the ordered cards of a FITS header, with typed access.
//
// Pure C++ (no cfitsio); FitsFile reads and writes it. Cards keep their order, comments
// and duplicates. Keywords compare case-insensitively. HIERARCH keywords are stored
// without the "HIERARCH " prefix ("ESO DET OUT1 PRSCX"), as astropy does; writing a
// keyword longer than 8 characters or containing spaces uses the HIERARCH convention.
// String values of any length are allowed: longer than fits on one card, they are
// written with the CONTINUE convention (and a LONGSTRN card) and read back joined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace majordome::image {

// monostate = no value (an undefined keyword, or COMMENT / HISTORY / blank commentary).
using HeaderValue = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

struct Card {
  std::string keyword;
  HeaderValue value;
  // The comment after '/', or the text of a commentary card.
  std::string comment;

  // COMMENT, HISTORY and blank-keyword cards carry text, not a value.
  bool is_commentary() const;
  friend bool operator==(const Card&, const Card&) = default;
};

// True for "COMMENT", "HISTORY" and "".
bool is_commentary_keyword(std::string_view keyword);

// Value type; thread-compatible.
class Header {
 public:
  Header() = default;

  // Sets the value of the first card with this keyword (and its comment, when `comment`
  // is not empty), or appends a card. Later duplicates are left alone.
  void set(std::string_view keyword, HeaderValue value, std::string_view comment = {});
  void set(std::string_view keyword, const char* value, std::string_view comment = {}) {
    set(keyword, HeaderValue(std::string(value)), comment);
  }
  template <typename I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  void set(std::string_view keyword, I value, std::string_view comment = {}) {
    set(keyword, HeaderValue(static_cast<std::int64_t>(value)), comment);
  }
  // Appends a card even if the keyword exists.
  void append(Card card);
  void add_comment(std::string_view text);
  void add_history(std::string_view text);

  // Copies every card of `other` into this header: valued cards through set(),
  // commentary cards appended.
  void merge(const Header& other);

  bool contains(std::string_view keyword) const;
  // Removes every card with this keyword; returns how many.
  std::size_t erase(std::string_view keyword);

  // The value of the first card with this keyword.
  std::optional<HeaderValue> find(std::string_view keyword) const;
  const Card* find_card(std::string_view keyword) const;
  // Typed lookups: nullopt when the keyword is missing or has no value. An integer value
  // is accepted as a double, and an integral double (3.0) as an integer; any other type
  // mismatch throws InvalidArgumentError naming the keyword.
  std::optional<std::string> find_string(std::string_view keyword) const;
  std::optional<std::int64_t> find_int(std::string_view keyword) const;
  std::optional<double> find_double(std::string_view keyword) const;
  std::optional<bool> find_bool(std::string_view keyword) const;
  // As find_*, but a missing keyword throws NotFoundError.
  std::string get_string(std::string_view keyword) const;
  std::int64_t get_int(std::string_view keyword) const;
  double get_double(std::string_view keyword) const;
  bool get_bool(std::string_view keyword) const;

  const std::vector<Card>& cards() const { return cards_; }
  std::vector<Card>::const_iterator begin() const { return cards_.begin(); }
  std::vector<Card>::const_iterator end() const { return cards_.end(); }
  std::size_t size() const { return cards_.size(); }
  bool empty() const { return cards_.empty(); }

  // The header as FITS card images: 80-character cards, concatenated, no END card.
  std::string to_fits_cards() const;
  // One card per line, trailing blanks removed (as `fitsheader` prints).
  std::string to_text() const;

  friend bool operator==(const Header&, const Header&) = default;

 private:
  std::vector<Card> cards_;
};

// A value as FITS would print it: T/F, integers, doubles with full precision, quoted
// strings.
std::string format_header_value(const HeaderValue& value);

}  // namespace majordome::image
