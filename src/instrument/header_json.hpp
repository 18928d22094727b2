// Private: JSON values → FITS header cards, as a JSON header dump is read (shared by the
// dump reader and the _index.json metadata indexes of ingest).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "majordome/core/error.hpp"
#include "majordome/image/header.hpp"

namespace majordome::instrument::detail {

// Appends the card a header value gives `key`: commentary keywords (COMMENT, HISTORY, blank)
// hold the value as their text.
void add_card(image::Header& h, const std::string& key, image::HeaderValue value);

// The header value of a JSON scalar. Throws CorruptFileError "<what>: value of <key> is not
// a header value" for an object or an array.
template <typename Json>
image::HeaderValue json_value(const Json& v, const std::string& what, const std::string& key) {
  if (v.is_null()) return std::monostate{};
  if (v.is_boolean()) return v.template get<bool>();
  if (v.is_number_integer()) return v.template get<std::int64_t>();
  if (v.is_number()) return v.template get<double>();
  if (v.is_string()) return v.template get<std::string>();
  throw CorruptFileError(fmt::format("{}: value of {} is not a header value", what, key));
}

// Appends the cards of one JSON dump entry: an array gives one card per element.
template <typename Json>
void add_json_cards(image::Header& h, const std::string& key, const Json& v, const std::string& what) {
  if (v.is_array()) {
    for (const auto& item : v) add_card(h, key, json_value(item, what, key));
  } else {
    add_card(h, key, json_value(v, what, key));
  }
}

}  // namespace majordome::instrument::detail
