// Text forms of binary region encodings.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::sphere {

// Lowercase hexadecimal, two digits per byte (export YAML `encoded:` values).
std::string to_hex(std::span<const std::uint8_t> bytes);
// Either case. Throws CorruptFileError on odd length or a non-hex character.
std::vector<std::uint8_t> from_hex(std::string_view hex);

// Standard base64 (RFC 4648 alphabet, '=' padding), as Rubin registries store regions.
std::string to_base64(std::span<const std::uint8_t> bytes);
// Accepts padded or unpadded text and skips whitespace (YAML !!binary folds lines).
// Throws CorruptFileError on any other character or an impossible length.
std::vector<std::uint8_t> from_base64(std::string_view text);

}  // namespace majordome::sphere
