// Little-endian encoding primitives shared by the region codecs (private).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "majordome/core/error.hpp"

namespace majordome::sphere::detail {

// Byte order is spelled out with shifts, so the encoding is little-endian on any host.
inline void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_f64(std::vector<std::uint8_t>& out, double v) {
  put_u64(out, std::bit_cast<std::uint64_t>(v));
}
inline std::uint64_t get_u64(std::span<const std::uint8_t> in, std::size_t offset) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(in[offset + i]) << (8 * i);
  return v;
}
inline double get_f64(std::span<const std::uint8_t> in, std::size_t offset) {
  return std::bit_cast<double>(get_u64(in, offset));
}

// Throws CorruptFileError unless `bytes` is exactly `expected` long.
inline void require_size(std::span<const std::uint8_t> bytes, std::size_t expected,
                         const char* what) {
  if (bytes.size() != expected) {
    throw CorruptFileError(std::string("encoded ") + what + " has " + std::to_string(bytes.size()) +
                           " bytes; expected " + std::to_string(expected));
  }
}

}  // namespace majordome::sphere::detail
