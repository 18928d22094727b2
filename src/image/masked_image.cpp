#include "majordome/image/masked_image.hpp"

#include "majordome/core/error.hpp"

namespace majordome::image {

template <typename T>
MaskedImage<T>::MaskedImage(Image<T> image, Mask mask, Image<VariancePixel> variance)
    : image_(std::move(image)), mask_(std::move(mask)), variance_(std::move(variance)) {
  if (mask_.bbox() != image_.bbox() || variance_.bbox() != image_.bbox()) {
    throw InvalidArgumentError("MaskedImage: image " + image_.bbox().str() + ", mask " +
                               mask_.bbox().str() + " and variance " + variance_.bbox().str() +
                               " must have the same bounding box");
  }
}

template <typename T>
void MaskedImage<T>::set_xy0(Point2I xy0) {
  image_.set_xy0(xy0);
  mask_.set_xy0(xy0);
  variance_.set_xy0(xy0);
}

template <typename T>
MaskedImage<T> MaskedImage<T>::subimage(const Box2I& parent_box) const {
  return MaskedImage(image_.subimage(parent_box), mask_.subimage(parent_box),
                     variance_.subimage(parent_box));
}

template <typename T>
MaskedImage<T> MaskedImage<T>::clone() const {
  return MaskedImage(image_.clone(), mask_.clone(), variance_.clone());
}

template class MaskedImage<float>;
template class MaskedImage<double>;

}  // namespace majordome::image
