#include "majordome/sphere/region.hpp"

#include <string>

#include "majordome/core/error.hpp"
#include "majordome/sphere/box.hpp"
#include "majordome/sphere/circle.hpp"
#include "majordome/sphere/codec.hpp"
#include "majordome/sphere/compound_region.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/ellipse.hpp"
#include "region_decoding.hpp"

namespace majordome::sphere {
namespace detail {

std::unique_ptr<Region> decode_region(std::span<const std::uint8_t> bytes, int depth) {
  if (bytes.empty()) throw CorruptFileError("cannot decode a region from an empty byte string");
  switch (bytes[0]) {
    case ConvexPolygon::kTypeCode:
      return std::make_unique<ConvexPolygon>(ConvexPolygon::decode(bytes));
    case Circle::kTypeCode:
      return std::make_unique<Circle>(Circle::decode(bytes));
    case Box::kTypeCode:
      return std::make_unique<Box>(Box::decode(bytes));
    case Ellipse::kTypeCode:
      return std::make_unique<Ellipse>(Ellipse::decode(bytes));
    case UnionRegion::kTypeCode:
    case IntersectionRegion::kTypeCode: {
      if (depth >= kMaxRegionNesting) {
        throw CorruptFileError("encoded region nests compound regions more than " +
                               std::to_string(kMaxRegionNesting) + " deep");
      }
      auto ops = CompoundRegion::decode_operands(bytes, depth);
      if (bytes[0] == UnionRegion::kTypeCode) return std::make_unique<UnionRegion>(std::move(ops));
      return std::make_unique<IntersectionRegion>(std::move(ops));
    }
    default: {
      static const char* digits = "0123456789abcdef";
      std::string hex = {digits[bytes[0] >> 4], digits[bytes[0] & 15]};
      throw CorruptFileError(
          "unknown region type byte 0x" + hex +
          " (expected one of 'p' ConvexPolygon, 'c' Circle, 'b' Box, 'e' Ellipse, 'u' UnionRegion, "
          "'i' IntersectionRegion)");
    }
  }
}

}  // namespace detail

std::string Region::encode_hex() const { return to_hex(encode()); }

std::string Region::encode_base64() const { return to_base64(encode()); }

std::unique_ptr<Region> Region::decode(std::span<const std::uint8_t> bytes) {
  return detail::decode_region(bytes, 0);
}

std::unique_ptr<Region> Region::decode_hex(std::string_view hex) { return decode(from_hex(hex)); }

std::unique_ptr<Region> Region::decode_base64(std::string_view text) {
  if (text.find(':') == std::string_view::npos && !text.empty()) return decode(from_base64(text));
  std::vector<std::unique_ptr<Region>> ops;
  std::size_t start = 0;
  while (!text.empty()) {
    const std::size_t end = text.find(':', start);
    ops.push_back(decode(from_base64(text.substr(start, end - start))));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return std::make_unique<UnionRegion>(std::move(ops));
}

std::optional<bool> Region::decode_overlaps_base64(std::string_view text) {
  bool unknown = false;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('|', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(start, end - start);
    const std::size_t amp = pair.find('&');
    if (amp == std::string_view::npos) {
      throw CorruptFileError("region overlap string '" + std::string(pair) +
                             "' lacks the '&' between two regions");
    }
    const auto a = decode_base64(pair.substr(0, amp));
    const auto b = decode_base64(pair.substr(amp + 1));
    const std::optional<bool> o = a->overlaps(*b);
    if (o == true) return true;
    if (!o.has_value()) unknown = true;
    start = end + 1;
  }
  if (unknown) return std::nullopt;
  return false;
}

}  // namespace majordome::sphere
