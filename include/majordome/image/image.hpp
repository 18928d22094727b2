// Image<T>: a 2-D array of pixels with an origin (xy0) in a larger "parent" pixel grid.
//
// Storage is row-major: pixel (x, y) of a fresh image is at data()[y * stride() + x], rows
// start on 64-byte boundaries only when stride() * sizeof(T) is a multiple of 64. Row spans
// (row(y)) are plain contiguous ranges, so loops over them vectorize.
//
// Handle semantics, as numpy arrays or cv::Mat: copying an Image copies the handle, both
// copies see the same pixels. subimage() returns a handle on a rectangle of the same
// pixels (no copy). clone() makes an independent deep copy. Constness is shallow: a const
// Image gives read-only access through its own members, but a copy of the handle can write.
//
// Coordinates: operator()(x, y) and row(y) take LOCAL 0-based indices (0 <= x < width());
// at(), subimage() and bbox() use PARENT coordinates (local + xy0).
//
// Thread safety: distinct pixels may be written concurrently; a handle itself is
// thread-compatible (const members may be called concurrently).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>

#include "majordome/image/box.hpp"

namespace majordome::image {

// The pixel types Image supports (explicitly instantiated in the library).
template <typename T>
inline constexpr bool kIsPixelType =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int32_t> ||
    std::is_same_v<T, std::uint16_t> || std::is_same_v<T, std::uint32_t>;

template <typename T>
class Image {
  static_assert(kIsPixelType<T>, "Image<T>: T must be float, double, int32, uint16 or uint32");

 public:
  using Pixel = T;

  // An empty 0×0 image.
  Image() = default;
  // A width×height image with xy0 = (0, 0), every pixel set to `initial`.
  // REQUIRES: width, height >= 0 (InvalidArgumentError).
  Image(int width, int height, T initial = T{}) : Image(Box2I({0, 0}, {width, height}), initial) {}
  // An image covering `bbox` (xy0 = bbox.min()).
  explicit Image(const Box2I& bbox, T initial = T{});

  Box2I bbox() const { return Box2I(xy0_, {width_, height_}); }
  Point2I xy0() const { return xy0_; }
  int width() const { return width_; }
  int height() const { return height_; }
  Extent2I dimensions() const { return {width_, height_}; }
  bool empty() const { return width_ == 0 || height_ == 0; }
  // Elements between the starts of consecutive rows (>= width()).
  std::ptrdiff_t stride() const { return stride_; }
  // True when the rows follow each other without gaps (data() spans width*height pixels).
  bool is_contiguous() const { return stride_ == width_ || height_ <= 1; }

  // Moves the image in the parent grid (the pixels stay; bbox() changes).
  void set_xy0(Point2I xy0) { xy0_ = xy0; }

  // Pixel (0, 0) of this image (local). Null for an empty image.
  T* data() const { return origin_; }
  std::span<T> row(int y) const {
    return std::span<T>(origin_ + static_cast<std::ptrdiff_t>(y) * stride_,
                        static_cast<std::size_t>(width_));
  }
  // Unchecked local access. REQUIRES: 0 <= x < width(), 0 <= y < height().
  T& operator()(int x, int y) const {
    return origin_[static_cast<std::ptrdiff_t>(y) * stride_ + x];
  }
  // Checked access in parent coordinates; throws InvalidArgumentError outside bbox().
  T& at(Point2I parent) const;

  // A handle on the pixels of `parent_box` (parent coordinates), sharing this buffer.
  // Throws InvalidArgumentError when the box is not inside bbox().
  Image subimage(const Box2I& parent_box) const;
  // An independent contiguous copy with the same bbox.
  Image clone() const;
  // A contiguous copy converted pixel by pixel with static_cast.
  template <typename U>
  Image<U> convert() const;

  // True when both handles refer to (possibly different parts of) the same buffer.
  bool shares_pixels_with(const Image& other) const {
    return buffer_ != nullptr && buffer_ == other.buffer_;
  }

  void fill(T value) const;
  // Copies pixel values from `other`; REQUIRES the same dimensions (InvalidArgumentError).
  void assign(const Image& other) const;

  // Element-wise arithmetic in place. Image operands need the same dimensions (the
  // pixels are paired by local position, xy0 is ignored).
  const Image& operator+=(T v) const { return apply([v](T& p) { p += v; }); }
  const Image& operator-=(T v) const { return apply([v](T& p) { p -= v; }); }
  const Image& operator*=(T v) const { return apply([v](T& p) { p *= v; }); }
  const Image& operator/=(T v) const { return apply([v](T& p) { p /= v; }); }
  const Image& operator+=(const Image& o) const { return apply2(o, [](T& p, T q) { p += q; }); }
  const Image& operator-=(const Image& o) const { return apply2(o, [](T& p, T q) { p -= q; }); }
  const Image& operator*=(const Image& o) const { return apply2(o, [](T& p, T q) { p *= q; }); }
  const Image& operator/=(const Image& o) const { return apply2(o, [](T& p, T q) { p /= q; }); }

 private:
  template <typename U>
  friend class Image;

  template <typename F>
  const Image& apply(F f) const {
    for (int y = 0; y < height_; ++y)
      for (T& p : row(y)) f(p);
    return *this;
  }
  template <typename F>
  const Image& apply2(const Image& o, F f) const {
    check_same_dimensions(o, "combine");
    for (int y = 0; y < height_; ++y) {
      const auto a = row(y);
      const auto b = o.row(y);
      for (std::size_t i = 0; i < a.size(); ++i) f(a[i], b[i]);
    }
    return *this;
  }
  void check_same_dimensions(const Image& o, const char* what) const;

  std::shared_ptr<T[]> buffer_;
  T* origin_ = nullptr;
  int width_ = 0;
  int height_ = 0;
  std::ptrdiff_t stride_ = 0;
  Point2I xy0_;
};

// ---- implementation -------------------------------------------------------------------

namespace detail {
// Allocates n pixels aligned to 64 bytes (cache line and widest vector register).
template <typename T>
std::shared_ptr<T[]> allocate_pixels(std::size_t n) {
  constexpr std::align_val_t kAlign{64};
  T* p = static_cast<T*>(::operator new[](std::max<std::size_t>(n, 1) * sizeof(T), kAlign));
  return std::shared_ptr<T[]>(p, [](T* q) { ::operator delete[](q, std::align_val_t{64}); });
}
[[noreturn]] void throw_outside(const Box2I& outer, const std::string& what);
[[noreturn]] void throw_dimension_mismatch(Extent2I a, Extent2I b, const char* what);
void check_dimensions(Extent2I dims);
}  // namespace detail

template <typename T>
Image<T>::Image(const Box2I& bbox, T initial)
    : width_(bbox.width()), height_(bbox.height()), stride_(bbox.width()), xy0_(bbox.min()) {
  detail::check_dimensions(bbox.dimensions());
  const auto n = static_cast<std::size_t>(bbox.area());
  buffer_ = detail::allocate_pixels<T>(n);
  origin_ = buffer_.get();
  std::uninitialized_fill_n(origin_, n, initial);
}

template <typename T>
T& Image<T>::at(Point2I parent) const {
  if (!bbox().contains(parent)) {
    detail::throw_outside(bbox(), "pixel (" + std::to_string(parent.x) + ", " +
                                      std::to_string(parent.y) + ")");
  }
  return (*this)(parent.x - xy0_.x, parent.y - xy0_.y);
}

template <typename T>
Image<T> Image<T>::subimage(const Box2I& parent_box) const {
  if (!bbox().contains(parent_box)) detail::throw_outside(bbox(), "sub-image " + parent_box.str());
  Image sub;
  if (parent_box.empty()) return sub;
  sub.buffer_ = buffer_;
  sub.origin_ = origin_ + static_cast<std::ptrdiff_t>(parent_box.min_y() - xy0_.y) * stride_ +
                (parent_box.min_x() - xy0_.x);
  sub.width_ = parent_box.width();
  sub.height_ = parent_box.height();
  sub.stride_ = stride_;
  sub.xy0_ = parent_box.min();
  return sub;
}

template <typename T>
Image<T> Image<T>::clone() const {
  Image copy(bbox());
  copy.assign(*this);
  return copy;
}

template <typename T>
template <typename U>
Image<U> Image<T>::convert() const {
  Image<U> out(bbox());
  for (int y = 0; y < height_; ++y) {
    const auto src = row(y);
    const auto dst = out.row(y);
    for (std::size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<U>(src[i]);
  }
  return out;
}

template <typename T>
void Image<T>::fill(T value) const {
  for (int y = 0; y < height_; ++y) std::ranges::fill(row(y), value);
}

template <typename T>
void Image<T>::assign(const Image& other) const {
  check_same_dimensions(other, "assign");
  if (origin_ == other.origin_) return;
  for (int y = 0; y < height_; ++y) std::ranges::copy(other.row(y), row(y).begin());
}

template <typename T>
void Image<T>::check_same_dimensions(const Image& o, const char* what) const {
  if (o.width_ != width_ || o.height_ != height_)
    detail::throw_dimension_mismatch(dimensions(), o.dimensions(), what);
}

extern template class Image<float>;
extern template class Image<double>;
extern template class Image<std::int32_t>;
extern template class Image<std::uint16_t>;
extern template class Image<std::uint32_t>;

using ImageF = Image<float>;
using ImageD = Image<double>;
using ImageI = Image<std::int32_t>;
using ImageU = Image<std::uint16_t>;

}  // namespace majordome::image
