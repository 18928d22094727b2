// Integer pixel positions and rectangles of whole pixels.
//
// Pixel coordinates are 0-based: the centre of the first pixel of the first row is (0, 0),
// as in Rubin's afw and astropy's origin=0 (FITS and IRAF count from 1; the FITS section
// helpers below convert). Boxes are in "parent" coordinates: an image whose origin (xy0) is
// (100, 200) covers a box whose minimum is (100, 200).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace majordome::image {

struct Point2I {
  int x = 0;
  int y = 0;
  friend constexpr bool operator==(const Point2I&, const Point2I&) = default;
};

struct Extent2I {
  int width = 0;
  int height = 0;
  friend constexpr bool operator==(const Extent2I&, const Extent2I&) = default;
};

// A floating-point pixel position (0-based; pixel centres at integers).
struct Point2D {
  double x = 0.0;
  double y = 0.0;
  friend constexpr bool operator==(const Point2D&, const Point2D&) = default;
};

// A rectangle of pixels, stored as its minimum corner and its dimensions.
//
// Both conventions are offered, named so that a reader cannot confuse them:
//   min_x()..max_x()  inclusive, as in afw's Box2I (max_x() == min_x() + width() - 1);
//   begin_x()..end_x() half-open, for loops: for (int x = b.begin_x(); x < b.end_x(); ++x).
// A box with zero width or height is empty; all empty boxes compare equal.
// Value type; thread-compatible.
class Box2I {
 public:
  constexpr Box2I() = default;
  // REQUIRES: dimensions are >= 0 (throws InvalidArgumentError otherwise).
  Box2I(Point2I min, Extent2I dimensions);
  // Inclusive corners; an empty box when max < min on either axis.
  static Box2I from_min_max(Point2I min, Point2I max_inclusive);
  // Half-open ranges [x_begin, x_end) × [y_begin, y_end); empty when end <= begin.
  static Box2I from_begin_end(int x_begin, int y_begin, int x_end, int y_end);
  // A FITS/IRAF section "[x1:x2,y1:y2]" (1-based, inclusive, as in BIASSEC or DATASEC).
  // Reversed ranges ("[528:17,...]") are normalised. Throws InvalidArgumentError naming the
  // text when it is not a section.
  static Box2I from_fits_section(std::string_view section);

  constexpr int min_x() const { return min_.x; }
  constexpr int min_y() const { return min_.y; }
  constexpr int max_x() const { return min_.x + dims_.width - 1; }
  constexpr int max_y() const { return min_.y + dims_.height - 1; }
  constexpr int begin_x() const { return min_.x; }
  constexpr int begin_y() const { return min_.y; }
  constexpr int end_x() const { return min_.x + dims_.width; }
  constexpr int end_y() const { return min_.y + dims_.height; }
  constexpr int width() const { return dims_.width; }
  constexpr int height() const { return dims_.height; }
  constexpr Point2I min() const { return min_; }
  constexpr Point2I max() const { return {max_x(), max_y()}; }
  constexpr Extent2I dimensions() const { return dims_; }
  constexpr std::int64_t area() const {
    return static_cast<std::int64_t>(dims_.width) * dims_.height;
  }
  constexpr bool empty() const { return dims_.width == 0 || dims_.height == 0; }

  constexpr bool contains(Point2I p) const {
    return p.x >= min_.x && p.x < end_x() && p.y >= min_.y && p.y < end_y();
  }
  // True when every pixel of `other` is in this box (an empty box is contained by all).
  constexpr bool contains(const Box2I& other) const {
    return other.empty() || (other.min_.x >= min_.x && other.end_x() <= end_x() &&
                             other.min_.y >= min_.y && other.end_y() <= end_y());
  }
  constexpr bool overlaps(const Box2I& other) const { return !intersection(other).empty(); }

  // The pixels in both boxes (empty when disjoint).
  constexpr Box2I intersection(const Box2I& other) const {
    const int x0 = min_.x > other.min_.x ? min_.x : other.min_.x;
    const int y0 = min_.y > other.min_.y ? min_.y : other.min_.y;
    const int x1 = end_x() < other.end_x() ? end_x() : other.end_x();
    const int y1 = end_y() < other.end_y() ? end_y() : other.end_y();
    if (empty() || other.empty() || x1 <= x0 || y1 <= y0) return Box2I();
    Box2I b;
    b.min_ = {x0, y0};
    b.dims_ = {x1 - x0, y1 - y0};
    return b;
  }
  // The smallest box holding both.
  Box2I united(const Box2I& other) const;
  // Moved by (dx, dy).
  Box2I shifted(int dx, int dy) const;
  // Grown by n pixels on every side (shrunk when n < 0; empty when it vanishes).
  Box2I grown(int n) const;

  // "[x1:x2,y1:y2]", 1-based inclusive (the inverse of from_fits_section).
  std::string fits_section() const;
  // "Box2I(min=(x, y), dimensions=(w, h))".
  std::string str() const;

  friend constexpr bool operator==(const Box2I& a, const Box2I& b) {
    if (a.empty() || b.empty()) return a.empty() && b.empty();
    return a.min_ == b.min_ && a.dims_ == b.dims_;
  }

 private:
  Point2I min_;
  Extent2I dims_;
};

}  // namespace majordome::image
