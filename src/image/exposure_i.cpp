#include "majordome/image/exposure_i.hpp"

#include "majordome/core/error.hpp"

namespace majordome::image {

ExposureI::ExposureI(Image<std::int32_t> image, Mask mask, Image<VariancePixel> variance)
    : image_(std::move(image)), mask_(std::move(mask)), variance_(std::move(variance)) {
  if (mask_.bbox() != image_.bbox() || variance_.bbox() != image_.bbox()) {
    throw InvalidArgumentError("ExposureI: image " + image_.bbox().str() + ", mask " + mask_.bbox().str() +
                               " and variance " + variance_.bbox().str() + " must have the same bounding box");
  }
}

}  // namespace majordome::image
