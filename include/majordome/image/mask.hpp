// Mask: an Image of 32-bit bit sets plus the names of the bits (mask planes).
//
// There is no global plane dictionary: each Mask carries its MaskPlanes, and files store
// them beside the pixels (MP_<NAME> = bit keywords, see docs/formats/exposure.md).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/image.hpp"

namespace majordome::image {

using MaskPixel = std::uint32_t;

// A mapping plane name → bit number (0..31). Value type.
//
// Names are 1..40 characters from [A-Za-z0-9_] so that they can be stored as FITS
// keywords. Lookups are exact (case-sensitive), as in afw.
class MaskPlanes {
 public:
  static constexpr int kMaxPlanes = 32;

  // No planes.
  MaskPlanes() = default;
  // BAD=0 SAT=1 INTRP=2 CR=3 EDGE=4 DETECTED=5 DETECTED_NEGATIVE=6 SUSPECT=7 NO_DATA=8
  // CROSSTALK=9 UNMASKEDNAN=10 (the first nine as in afw's defaults).
  static MaskPlanes standard();

  // Returns the bit of `name`, adding it at the lowest free bit if absent. Throws
  // InvalidArgumentError for a bad name or when all 32 bits are taken.
  int add(std::string_view name);
  // Adds `name` at `bit`. Throws ConflictError when the name has another bit or the bit
  // another name, InvalidArgumentError for a bad name or bit.
  void add(std::string_view name, int bit);
  // Removes a plane; returns whether it existed (its bit becomes free; pixels are untouched).
  bool remove(std::string_view name);

  std::optional<int> find_bit(std::string_view name) const;
  // Throws NotFoundError listing the known planes.
  int get_bit(std::string_view name) const;
  // 1 << get_bit(name).
  MaskPixel get_bitmask(std::string_view name) const;
  // The OR of the bitmasks of all names.
  MaskPixel get_bitmask(std::initializer_list<std::string_view> names) const;
  bool contains(std::string_view name) const { return find_bit(name).has_value(); }

  int size() const;
  // (bit, name) pairs in increasing bit order.
  std::vector<std::pair<int, std::string>> entries() const;
  // The names of the set bits of `value` that have a name, in bit order.
  std::vector<std::string> names_in(MaskPixel value) const;

  friend bool operator==(const MaskPlanes&, const MaskPlanes&) = default;

 private:
  std::array<std::string, kMaxPlanes> names_;  // "" = bit free
};

// A Mask is an Image<MaskPixel> (all of Image's pixel access and handle semantics) plus
// its planes. Sub-masks and copies of the handle share both the pixels and the planes, so
// a plane added through one handle is seen by all; clone() copies both.
class Mask : public Image<MaskPixel> {
 public:
  Mask() : planes_(std::make_shared<MaskPlanes>()) {}
  Mask(int width, int height, MaskPlanes planes = MaskPlanes::standard())
      : Mask(Box2I({0, 0}, {width, height}), std::move(planes)) {}
  explicit Mask(const Box2I& bbox, MaskPlanes planes = MaskPlanes::standard())
      : Image<MaskPixel>(bbox, 0), planes_(std::make_shared<MaskPlanes>(std::move(planes))) {}
  // Wraps existing pixels (no copy).
  Mask(Image<MaskPixel> pixels, MaskPlanes planes)
      : Image<MaskPixel>(std::move(pixels)),
        planes_(std::make_shared<MaskPlanes>(std::move(planes))) {}

  // The planes, shared by every handle on these pixels. Shallow const, as the pixels.
  MaskPlanes& planes() const { return *planes_; }
  // Shortcut for planes().get_bitmask(name).
  MaskPixel get_bitmask(std::string_view name) const { return planes_->get_bitmask(name); }

  Mask subimage(const Box2I& parent_box) const {
    return Mask(Image<MaskPixel>::subimage(parent_box), planes_);
  }
  Mask clone() const {
    return Mask(Image<MaskPixel>::clone(), std::make_shared<MaskPlanes>(*planes_));
  }

  // ORs `bits` into every pixel of `parent_box` (clipped to bbox()).
  void set_bits(const Box2I& parent_box, MaskPixel bits) const;
  // Clears `bits` in every pixel.
  void clear_bits(MaskPixel bits) const;
  // The number of pixels with any of `bits` set.
  std::int64_t count(MaskPixel bits) const;

 private:
  Mask(Image<MaskPixel> pixels, std::shared_ptr<MaskPlanes> planes)
      : Image<MaskPixel>(std::move(pixels)), planes_(std::move(planes)) {}

  std::shared_ptr<MaskPlanes> planes_;
};

}  // namespace majordome::image
