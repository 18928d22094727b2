// Private to the datastore module: the percent-encoding of paths in URIs (file:// and the
// remote schemes alike), so that every URI this module writes spells a path one way.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace majordome::datastore::detail {

// As Python's urllib.parse.quote: ASCII letters, digits, "_.-~" and '/' stay, every other
// byte becomes %XX (upper-case hex).
std::string percent_encode(std::string_view text);
// The bytes `text` stands for; nullopt if an escape is malformed ("%", "%4", "%zz").
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace majordome::datastore::detail
