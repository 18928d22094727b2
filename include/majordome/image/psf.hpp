// Psf: the point-spread function of an image, as a small interface.
//
// Models (Gaussian here; PSFEx-like and others in later modules) implement it. A model
// that can be saved in an Exposure file provides to_catalog(); readers are looked up by
// persistence_name() (see exposure_fits.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "majordome/image/catalog.hpp"
#include "majordome/image/image.hpp"

namespace majordome::image {

class Psf {
 public:
  virtual ~Psf() = default;

  // The PSF at parent pixel position (x, y), sampled on an odd-sized image centred on
  // the pixel nearest (x, y) (the image's xy0 puts that pixel at its centre), normalized
  // to unit sum, including the sub-pixel offset of (x, y) from that pixel.
  virtual Image<double> kernel_image(double x, double y) const = 0;
  // The radius of the Gaussian with the same second moments (pixels).
  virtual double determinant_radius(double x, double y) const = 0;
  // A stable name for the model's file representation ("GaussianPsf"); empty when the
  // model cannot be saved.
  virtual std::string persistence_name() const { return {}; }
  // The parameters as a table (with persistence_name() and a version in its metadata).
  virtual std::optional<Catalog> to_catalog() const { return std::nullopt; }

 protected:
  Psf() = default;
  Psf(const Psf&) = default;
  Psf& operator=(const Psf&) = default;
};

// A circular Gaussian, the same everywhere.
class GaussianPsf final : public Psf {
 public:
  // width, height: the (odd) size of kernel images; sigma in pixels (> 0).
  // Throws InvalidArgumentError otherwise.
  GaussianPsf(int width, int height, double sigma);

  int width() const { return width_; }
  int height() const { return height_; }
  double sigma() const { return sigma_; }

  Image<double> kernel_image(double x, double y) const override;
  double determinant_radius(double, double) const override { return sigma_; }
  std::string persistence_name() const override { return "GaussianPsf"; }
  std::optional<Catalog> to_catalog() const override;
  // The inverse of to_catalog(); CorruptFileError when the table is not one.
  static std::shared_ptr<GaussianPsf> from_catalog(const Catalog& catalog);

 private:
  int width_;
  int height_;
  double sigma_;
};

}  // namespace majordome::image
