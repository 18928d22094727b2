// The common interface of all spherical regions, and their byte encoding.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/sphere/relationship.hpp"
#include "majordome/sphere/unit_vector3d.hpp"

namespace majordome::sphere {

class Box;
class Circle;

// The closed set of region kinds. The value is the type byte that starts the encoding.
enum class RegionType : std::uint8_t {
  kBox = 'b',
  kCircle = 'c',
  kConvexPolygon = 'p',
  kEllipse = 'e',
  kUnion = 'u',
  kIntersection = 'i',
};

// A closed region of the unit sphere: ConvexPolygon, Circle, Box, Ellipse, UnionRegion or
// IntersectionRegion (the set is closed; relate() knows every pair).
//
// Regions are immutable values once built; all const member functions are thread-safe.
// Polymorphic copies go through clone(). Encodings are byte-compatible with lsst.sphgeom
// (docs/sphere.md): decode(encode(r)) reproduces r bit for bit, and encode(decode(b)) == b.
class Region {
 public:
  virtual ~Region() = default;

  virtual RegionType type() const = 0;
  virtual std::unique_ptr<Region> clone() const = 0;

  // True if the region certainly has no points (an IntersectionRegion may be empty
  // without knowing it).
  virtual bool is_empty() const = 0;

  // Whether the point v (closed boundary included) is in the region. Exact for
  // ConvexPolygon; Circle, Box and Ellipse decide in double precision.
  virtual bool contains(const UnitVector3d& v) const = 0;

  // What is known about this region against `other` (see Relationship).
  Relationship relate(const Region& other) const;

  // true / false when decided; std::nullopt when unknown (see Relationship).
  // Decided for every pair of ConvexPolygon, Circle and Box, and for unions of those.
  std::optional<bool> overlaps(const Region& other) const;

  // A box / circle containing the region (slightly padded against rounding).
  virtual Box bounding_box() const = 0;
  virtual Circle bounding_circle() const = 0;

  // The sphgeom byte encoding (type byte first; little-endian doubles).
  virtual std::vector<std::uint8_t> encode() const = 0;
  std::string encode_hex() const;     // lowercase hex, as in export YAML `encoded:`
  std::string encode_base64() const;  // standard base64, as stored in registry databases

  // Decodes any region; dispatches on the first byte. Throws CorruptFileError naming
  // the problem (unknown type byte, wrong length, fewer than 3 polygon vertices,
  // truncated compound operand).
  static std::unique_ptr<Region> decode(std::span<const std::uint8_t> bytes);
  // Hex text (either case) → decode(). Bad hex is also a CorruptFileError.
  static std::unique_ptr<Region> decode_hex(std::string_view hex);
  // Base64 text → decode(). Several encodings joined by ':' (an SQL aggregate) decode as
  // a UnionRegion of them; the empty string decodes as an empty UnionRegion.
  static std::unique_ptr<Region> decode_base64(std::string_view text);
  // "a&b|c&d|…" where each a, b, … is a base64 region: whether any pair overlaps.
  // Empty text → false; nullopt when no pair is known to overlap but some are unknown.
  static std::optional<bool> decode_overlaps_base64(std::string_view text);

 protected:
  Region() = default;
  Region(const Region&) = default;
  Region& operator=(const Region&) = default;
};

}  // namespace majordome::sphere
