// MaskedImage<T>: an image, its mask and its variance, on the same pixel grid.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "majordome/image/box.hpp"
#include "majordome/image/image.hpp"
#include "majordome/image/mask.hpp"

namespace majordome::image {

// Variance is stored in single precision whatever the image type, as in Rubin's stack.
using VariancePixel = float;

// Three Image handles with equal bounding boxes (an invariant checked by the constructors).
// Handle semantics as Image: copies and sub-images share pixels; clone() copies all three.
// T is float or double.
template <typename T>
class MaskedImage {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "MaskedImage<T>: T must be float or double");

 public:
  MaskedImage() = default;
  MaskedImage(int width, int height, MaskPlanes planes = MaskPlanes::standard())
      : MaskedImage(Box2I({0, 0}, {width, height}), std::move(planes)) {}
  // Image and variance zero, mask clear.
  explicit MaskedImage(const Box2I& bbox, MaskPlanes planes = MaskPlanes::standard())
      : image_(bbox), mask_(bbox, std::move(planes)), variance_(bbox) {}
  // Throws InvalidArgumentError unless the three bounding boxes are equal.
  MaskedImage(Image<T> image, Mask mask, Image<VariancePixel> variance);

  // The three handles. Their pixels can be written through them (shallow constness, as
  // Image); the handles themselves are fixed, which keeps the bounding boxes equal.
  const Image<T>& image() const { return image_; }
  const Mask& mask() const { return mask_; }
  const Image<VariancePixel>& variance() const { return variance_; }

  Box2I bbox() const { return image_.bbox(); }
  Point2I xy0() const { return image_.xy0(); }
  int width() const { return image_.width(); }
  int height() const { return image_.height(); }
  void set_xy0(Point2I xy0);

  MaskedImage subimage(const Box2I& parent_box) const;
  MaskedImage clone() const;

 private:
  Image<T> image_;
  Mask mask_;
  Image<VariancePixel> variance_;
};

extern template class MaskedImage<float>;
extern template class MaskedImage<double>;

using MaskedImageF = MaskedImage<float>;
using MaskedImageD = MaskedImage<double>;

}  // namespace majordome::image
