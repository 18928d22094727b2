// ExposureI: Rubin's ExposureI, an exposure whose pixels are 32-bit integers (counts, maps
// of ids), with a mask, a float variance and the components an Exposure has.
//
// The components other than the pixels (WCS, PSF, photometric calibration, filter, visit,
// detector, metadata) are held in an Exposure without pixels, components(), so the code
// that reads, writes and copies them is the one Exposure uses. Stored in the Exposure file
// format (exposure_fits.hpp) with a 32-bit integer IMAGE HDU.
//
// Handle semantics for the pixels, as Exposure.
#pragma once

#include <cstdint>
#include <utility>

#include "majordome/image/box.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/image.hpp"
#include "majordome/image/mask.hpp"
#include "majordome/image/masked_image.hpp"

namespace majordome::image {

class ExposureI {
 public:
  ExposureI() = default;
  // Pixels zero, mask clear.
  explicit ExposureI(const Box2I& bbox, MaskPlanes planes = MaskPlanes::standard())
      : image_(bbox), mask_(bbox, std::move(planes)), variance_(bbox) {}
  // Throws InvalidArgumentError unless the three bounding boxes are equal.
  ExposureI(Image<std::int32_t> image, Mask mask, Image<VariancePixel> variance);

  const Image<std::int32_t>& image() const { return image_; }
  const Mask& mask() const { return mask_; }
  const Image<VariancePixel>& variance() const { return variance_; }
  Box2I bbox() const { return image_.bbox(); }
  int width() const { return image_.width(); }
  int height() const { return image_.height(); }

  // The WCS (of parent pixel coordinates), PSF, photometric calibration, filter, visit,
  // detector and metadata; its own pixels are empty and unused.
  const Exposure& components() const { return components_; }
  Exposure& components() { return components_; }

 private:
  Image<std::int32_t> image_;
  Mask mask_;
  Image<VariancePixel> variance_;
  Exposure components_;
};

}  // namespace majordome::image
