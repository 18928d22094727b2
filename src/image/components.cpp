// Small Exposure components: PhotoCalib, GaussianPsf, Exposure itself.
#include <cmath>
#include <limits>
#include <numbers>

#include "majordome/core/error.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/photo_calib.hpp"
#include "majordome/image/psf.hpp"

namespace majordome::image {

namespace {
constexpr double kAbZeroPointNanojansky = 31.4;  // AB magnitude of 1 nJy
}

PhotoCalib PhotoCalib::from_zero_point(double zero_point, double zero_point_error) {
  PhotoCalib pc;
  pc.calibration_mean = std::pow(10.0, (kAbZeroPointNanojansky - zero_point) / 2.5);
  pc.calibration_error = pc.calibration_mean * std::numbers::ln10 / 2.5 * zero_point_error;
  return pc;
}

double PhotoCalib::zero_point() const {
  return kAbZeroPointNanojansky - 2.5 * std::log10(calibration_mean);
}

double PhotoCalib::instflux_to_magnitude(double instflux) const {
  const double f = instflux_to_nanojansky(instflux);
  if (!(f > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return -2.5 * std::log10(f) + kAbZeroPointNanojansky;
}

GaussianPsf::GaussianPsf(int width, int height, double sigma)
    : width_(width), height_(height), sigma_(sigma) {
  if (width < 1 || height < 1 || width % 2 == 0 || height % 2 == 0 || !(sigma > 0.0) ||
      !std::isfinite(sigma)) {
    throw InvalidArgumentError("GaussianPsf needs odd positive kernel dimensions and sigma > 0 (got " +
                               std::to_string(width) + "x" + std::to_string(height) +
                               ", sigma " + std::to_string(sigma) + ")");
  }
}

Image<double> GaussianPsf::kernel_image(double x, double y) const {
  const int cx = static_cast<int>(std::lround(x));
  const int cy = static_cast<int>(std::lround(y));
  Image<double> k(Box2I({cx - width_ / 2, cy - height_ / 2}, {width_, height_}));
  double sum = 0.0;
  const double inv = 1.0 / (2.0 * sigma_ * sigma_);
  for (int j = 0; j < height_; ++j) {
    const double dy = k.xy0().y + j - y;
    auto row = k.row(j);
    for (int i = 0; i < width_; ++i) {
      const double dx = k.xy0().x + i - x;
      row[static_cast<std::size_t>(i)] = std::exp(-(dx * dx + dy * dy) * inv);
      sum += row[static_cast<std::size_t>(i)];
    }
  }
  k /= sum;
  return k;
}

std::optional<Catalog> GaussianPsf::to_catalog() const {
  Schema schema;
  schema.add("width", ColumnType::kInt32, "kernel image width", "pixel");
  schema.add("height", ColumnType::kInt32, "kernel image height", "pixel");
  schema.add("sigma", ColumnType::kDouble, "Gaussian sigma", "pixel");
  Catalog cat(schema, 1);
  cat.column<std::int32_t>("width")[0] = width_;
  cat.column<std::int32_t>("height")[0] = height_;
  cat.column<double>("sigma")[0] = sigma_;
  cat.metadata().set("PSFTYPE", persistence_name(), "Psf model (majordome persistence name)");
  cat.metadata().set("PSFVER", 1, "version of the model's table layout");
  return cat;
}

std::shared_ptr<GaussianPsf> GaussianPsf::from_catalog(const Catalog& catalog) {
  try {
    if (catalog.size() != 1) throw InvalidArgumentError("expected one row");
    return std::make_shared<GaussianPsf>(catalog.column<std::int32_t>("width")[0],
                                         catalog.column<std::int32_t>("height")[0],
                                         catalog.column<double>("sigma")[0]);
  } catch (const Error& e) {
    throw CorruptFileError(std::string("invalid GaussianPsf table: ") + e.what());
  }
}

Exposure Exposure::subimage(const Box2I& parent_box) const {
  Exposure out = *this;
  out.masked_image_ = masked_image_.subimage(parent_box);
  return out;
}

Exposure Exposure::clone() const {
  Exposure out = *this;
  out.masked_image_ = masked_image_.clone();
  return out;
}

}  // namespace majordome::image
