// Recursive decoding with a nesting limit (private).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "majordome/sphere/region.hpp"

namespace majordome::sphere::detail {

// Compound regions nest; bytes from a damaged or hostile file must not exhaust the stack.
inline constexpr int kMaxRegionNesting = 64;

std::unique_ptr<Region> decode_region(std::span<const std::uint8_t> bytes, int depth);

}  // namespace majordome::sphere::detail
