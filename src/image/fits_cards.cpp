#include "fits_cards.hpp"

#include <fitsio.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "majordome/core/error.hpp"

namespace majordome::image::detail {

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_cfitsio_boilerplate(const Card& card) {
  if (card.keyword != "COMMENT") return false;
  std::string_view text = card.comment;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  for (std::string_view prefix :
       {"FITS (Flexible Image Transport System) format is defined in 'Astronomy",
        "and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H",
        "This FITS file may contain long string keyword values that are",
        "continued over multiple keywords.  The HEASARC convention uses the &",
        "character at the end of each substring which is then continued",
        "on the next keyword which has the name CONTINUE."}) {
    if (text.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

namespace {

std::string pad(std::string s, std::size_t width = kCardLength) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  if (s.size() > width) s.resize(width);
  return s;
}

std::string rstrip(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  return std::string(s);
}

std::string strip(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return rstrip(s);
}

// A standard keyword fits in 8 columns without spaces; anything else is HIERARCH.
bool is_standard_keyword(std::string_view key) {
  return key.size() <= 8 && key.find(' ') == std::string_view::npos;
}

std::string format_double(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ptr);
  for (char& c : s) {
    if (c == 'e') c = 'E';
  }
  if (s.find('.') == std::string::npos && s.find('E') == std::string::npos) s += ".0";
  return s;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  // Not padded to 8 characters (a fixed-format habit, optional in FITS 4.0): some readers,
  // wcslib among them, compare values such as CQDIS1 = 'TPD' literally.
  out += '\'';
  return out;
}

std::string make_card(const std::string& keyword, const std::string& value,
                      const std::string& comment) {
  char card[FLEN_CARD] = {};
  int status = 0;
  std::string key = is_standard_keyword(keyword) ? to_upper(keyword) : keyword;
  std::string val = value;
  ffmkky(key.c_str(), val.data(), comment.c_str(), card, &status);
  if (status != 0) {
    throw InvalidArgumentError("cannot make a FITS card for keyword '" + keyword + "'");
  }
  return pad(card);
}

std::string key_prefix(const std::string& keyword) {
  if (is_standard_keyword(keyword)) return pad(to_upper(keyword), 8) + "= ";
  return "HIERARCH " + keyword + " = ";
}

// A string too long for one card: the CONTINUE convention (FITS 4.0 §4.2.1.2).
std::vector<std::string> format_long_string(const std::string& keyword, const std::string& value,
                                            const std::string& comment) {
  std::vector<std::string> cards;
  std::string prefix = key_prefix(keyword);
  std::size_t pos = 0;
  while (true) {
    const std::size_t room = kCardLength - prefix.size() - 3;  // two quotes and '&'
    std::string chunk;
    std::size_t used = 0;
    while (pos + used < value.size()) {
      const char c = value[pos + used];
      const std::size_t need = c == '\'' ? 2 : 1;
      if (chunk.size() + need > room) break;
      chunk += c;
      if (c == '\'') chunk += '\'';
      ++used;
    }
    pos += used;
    const bool last = pos >= value.size();
    std::string card = prefix + "'" + chunk + (last ? "'" : "&'");
    if (last && !comment.empty() && card.size() + 3 < kCardLength) card += " / " + comment;
    cards.push_back(pad(card));
    if (last) break;
    prefix = "CONTINUE  ";
  }
  return cards;
}

}  // namespace

std::vector<std::string> format_card(const Card& card) {
  if (card.is_commentary()) {
    const std::string key = to_upper(card.keyword);
    std::vector<std::string> out;
    const std::string& text = card.comment;
    std::size_t pos = 0;
    do {
      out.push_back(pad(pad(key, 8) + text.substr(pos, 72)));
      pos += 72;
    } while (pos < text.size());
    return out;
  }
  const std::string& key = card.keyword;
  if (key.empty() || key.size() > 70) {
    throw InvalidArgumentError("invalid FITS keyword '" + key + "'");
  }
  for (char c : key) {
    if (c < 32 || c > 126 || c == '=') {
      throw InvalidArgumentError("invalid character in FITS keyword '" + key + "'");
    }
  }
  std::string value;
  bool undefined = false;
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          undefined = true;
        } else if constexpr (std::is_same_v<V, bool>) {
          value = v ? "T" : "F";
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          value = std::to_string(v);
        } else if constexpr (std::is_same_v<V, double>) {
          if (std::isfinite(v)) {
            value = format_double(v);
          } else {
            undefined = true;  // FITS has no NaN or infinity: the value is undefined
          }
        } else {
          for (char c : v) {
            if (c < 32 || c > 126) {
              throw InvalidArgumentError("keyword '" + key +
                                         "': FITS strings may hold printable ASCII only");
            }
          }
          value = quote(v);
        }
      },
      card.value);
  if (undefined) {
    std::string text = key_prefix(key);
    text.append(std::max<std::size_t>(text.size(), 30) - text.size(), ' ');
    if (!card.comment.empty()) text += " / " + card.comment;
    return {pad(text)};
  }
  const bool is_string = std::holds_alternative<std::string>(card.value);
  if (is_string && key_prefix(key).size() + value.size() > kCardLength) {
    return format_long_string(key, std::get<std::string>(card.value), card.comment);
  }
  return {make_card(key, value, card.comment)};
}

namespace {

std::string unquote(std::string_view v) {
  // v is a quoted FITS string as ffpsvc returns it: 'text' with '' for a quote.
  std::string out;
  if (v.size() < 2 || v.front() != '\'') return std::string(v);
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    out += v[i];
    if (v[i] == '\'' && v[i + 1] == '\'') ++i;
  }
  return rstrip(out);
}

HeaderValue parse_value(const std::string& raw, const std::string& keyword,
                        const std::string& context) {
  if (raw.empty()) return std::monostate{};
  char type = 0;
  int status = 0;
  std::string tmp = raw;
  ffdtyp(tmp.c_str(), &type, &status);
  if (status != 0) {
    throw CorruptFileError(context + ": keyword '" + keyword + "' has an unreadable value '" +
                           raw + "'");
  }
  switch (type) {
    case 'C':
      return unquote(raw);
    case 'L':
      return raw == "T";
    case 'I': {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(raw.data() + (raw[0] == '+' ? 1 : 0),
                                       raw.data() + raw.size(), v);
      if (ec == std::errc() && ptr == raw.data() + raw.size()) return v;
      return std::strtod(raw.c_str(), nullptr);  // too large for 64 bits
    }
    case 'F': {
      std::string s = raw;
      for (char& c : s) {
        if (c == 'D' || c == 'd') c = 'E';
      }
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (end == s.c_str()) {
        throw CorruptFileError(context + ": keyword '" + keyword + "' has an unreadable number '" +
                               raw + "'");
      }
      return v;
    }
    default:
      return raw;  // complex values are kept as their text
  }
}

}  // namespace

std::vector<Card> parse_cards(std::string_view text, const std::string& context) {
  std::vector<Card> cards;
  for (std::size_t pos = 0; pos + 8 <= text.size(); pos += kCardLength) {
    std::string image(text.substr(pos, kCardLength));
    image = pad(image);
    const std::string key8 = rstrip(image.substr(0, 8));
    if (key8 == "END") break;
    if (key8 == "CONTINUE" && !cards.empty() &&
        std::holds_alternative<std::string>(cards.back().value)) {
      auto& prev = std::get<std::string>(cards.back().value);
      if (!prev.empty() && prev.back() == '&') {
        std::string fake = "XXXXXXXX= " + image.substr(10);
        char value[FLEN_VALUE] = {};
        char comment[FLEN_COMMENT] = {};
        int status = 0;
        ffpsvc(fake.data(), value, comment, &status);
        prev.pop_back();
        if (status == 0) prev += unquote(value);
        if (comment[0] != '\0') {
          auto& c = cards.back().comment;
          c += (c.empty() ? "" : " ") + strip(comment);
        }
        continue;
      }
    }
    if (key8 == "COMMENT" || key8 == "HISTORY" || key8.empty() ||
        (key8 == "CONTINUE")) {
      cards.push_back(Card{key8, std::monostate{}, rstrip(image.substr(8))});
      continue;
    }
    char name[FLEN_KEYWORD] = {};
    int length = 0;
    int status = 0;
    ffgknm(image.data(), name, &length, &status);
    std::string keyword = status == 0 ? std::string(name) : key8;
    char value[FLEN_VALUE] = {};
    char comment[FLEN_COMMENT] = {};
    status = 0;
    ffpsvc(image.data(), value, comment, &status);
    const bool has_value_indicator =
        image.compare(8, 2, "= ") == 0 || image.compare(0, 9, "HIERARCH ") == 0;
    if (!has_value_indicator) {
      // A keyword without "= ": commentary-style text under a non-standard keyword.
      cards.push_back(Card{keyword, std::monostate{}, rstrip(image.substr(8))});
      continue;
    }
    if (status != 0) {
      throw CorruptFileError(context + ": cannot parse the header card '" + rstrip(image) + "'");
    }
    cards.push_back(Card{keyword, parse_value(value, keyword, context), strip(comment)});
  }
  return cards;
}

}  // namespace majordome::image::detail
