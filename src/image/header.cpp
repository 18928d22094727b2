#include "majordome/image/header.hpp"

#include <cmath>
#include <string>

#include "fits_cards.hpp"
#include "majordome/core/error.hpp"

namespace majordome::image {

using detail::iequals;

bool is_commentary_keyword(std::string_view keyword) {
  return keyword.empty() || iequals(keyword, "COMMENT") || iequals(keyword, "HISTORY");
}

bool Card::is_commentary() const { return is_commentary_keyword(keyword); }

void Header::set(std::string_view keyword, HeaderValue value, std::string_view comment) {
  for (auto& card : cards_) {
    if (iequals(card.keyword, keyword) && !card.is_commentary()) {
      card.value = std::move(value);
      if (!comment.empty()) card.comment = std::string(comment);
      return;
    }
  }
  cards_.push_back(Card{std::string(keyword), std::move(value), std::string(comment)});
}

void Header::append(Card card) { cards_.push_back(std::move(card)); }

void Header::add_comment(std::string_view text) {
  cards_.push_back(Card{"COMMENT", std::monostate{}, std::string(text)});
}

void Header::add_history(std::string_view text) {
  cards_.push_back(Card{"HISTORY", std::monostate{}, std::string(text)});
}

void Header::merge(const Header& other) {
  for (const auto& card : other.cards_) {
    if (card.is_commentary()) {
      cards_.push_back(card);
    } else {
      set(card.keyword, card.value, card.comment);
    }
  }
}

bool Header::contains(std::string_view keyword) const { return find_card(keyword) != nullptr; }

std::size_t Header::erase(std::string_view keyword) {
  return std::erase_if(cards_, [&](const Card& c) { return iequals(c.keyword, keyword); });
}

const Card* Header::find_card(std::string_view keyword) const {
  for (const auto& card : cards_) {
    if (iequals(card.keyword, keyword)) return &card;
  }
  return nullptr;
}

std::optional<HeaderValue> Header::find(std::string_view keyword) const {
  const Card* c = find_card(keyword);
  if (c == nullptr) return std::nullopt;
  return c->value;
}

namespace {

const char* type_name(const HeaderValue& v) {
  switch (v.index()) {
    case 0: return "no value";
    case 1: return "a boolean";
    case 2: return "an integer";
    case 3: return "a real number";
    default: return "a string";
  }
}

[[noreturn]] void type_error(std::string_view keyword, const HeaderValue& v, const char* wanted) {
  throw InvalidArgumentError("header keyword '" + std::string(keyword) + "' holds " +
                             type_name(v) + ", not " + wanted);
}

[[noreturn]] void missing(std::string_view keyword) {
  throw NotFoundError("header keyword '" + std::string(keyword) + "' is missing");
}

}  // namespace

std::optional<std::string> Header::find_string(std::string_view keyword) const {
  const Card* c = find_card(keyword);
  if (c == nullptr || std::holds_alternative<std::monostate>(c->value)) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&c->value)) return *s;
  type_error(keyword, c->value, "a string");
}

std::optional<std::int64_t> Header::find_int(std::string_view keyword) const {
  const Card* c = find_card(keyword);
  if (c == nullptr || std::holds_alternative<std::monostate>(c->value)) return std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(&c->value)) return *i;
  if (const auto* d = std::get_if<double>(&c->value)) {
    if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.2e18) {
      return static_cast<std::int64_t>(*d);
    }
  }
  type_error(keyword, c->value, "an integer");
}

std::optional<double> Header::find_double(std::string_view keyword) const {
  const Card* c = find_card(keyword);
  if (c == nullptr || std::holds_alternative<std::monostate>(c->value)) return std::nullopt;
  if (const auto* d = std::get_if<double>(&c->value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&c->value)) return static_cast<double>(*i);
  type_error(keyword, c->value, "a number");
}

std::optional<bool> Header::find_bool(std::string_view keyword) const {
  const Card* c = find_card(keyword);
  if (c == nullptr || std::holds_alternative<std::monostate>(c->value)) return std::nullopt;
  if (const auto* b = std::get_if<bool>(&c->value)) return *b;
  type_error(keyword, c->value, "a boolean");
}

std::string Header::get_string(std::string_view keyword) const {
  if (auto v = find_string(keyword)) return *v;
  missing(keyword);
}
std::int64_t Header::get_int(std::string_view keyword) const {
  if (auto v = find_int(keyword)) return *v;
  missing(keyword);
}
double Header::get_double(std::string_view keyword) const {
  if (auto v = find_double(keyword)) return *v;
  missing(keyword);
}
bool Header::get_bool(std::string_view keyword) const {
  if (auto v = find_bool(keyword)) return *v;
  missing(keyword);
}

std::string Header::to_fits_cards() const {
  std::string out;
  for (const auto& card : cards_) {
    for (const auto& image : detail::format_card(card)) out += image;
  }
  return out;
}

std::string Header::to_text() const {
  std::string out;
  for (const auto& card : cards_) {
    for (auto image : detail::format_card(card)) {
      while (!image.empty() && image.back() == ' ') image.pop_back();
      out += image;
      out += '\n';
    }
  }
  return out;
}

std::string format_header_value(const HeaderValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::string quoted = "'";
    for (char c : *text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
  }
  const auto cards = detail::format_card(Card{"X", value, ""});
  std::string v = cards.front().substr(10);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

}  // namespace majordome::image
