// PhotoCalib: the photometric calibration of an image, a constant scale to nanojansky.
#pragma once

namespace majordome::image {

// flux [nJy] = calibration_mean × instrumental flux [image units, e.g. counts or electrons].
// The AB magnitude of a flux f nJy is -2.5 log10(f) + 31.4. Value type.
struct PhotoCalib {
  double calibration_mean = 1.0;   // nJy per image unit
  double calibration_error = 0.0;  // 1-sigma uncertainty of calibration_mean, nJy per unit

  // The calibration whose AB zero point (magnitude of one image unit) is `zero_point`.
  static PhotoCalib from_zero_point(double zero_point, double zero_point_error = 0.0);
  double zero_point() const;
  double instflux_to_nanojansky(double instflux) const { return calibration_mean * instflux; }
  // NaN for instflux <= 0.
  double instflux_to_magnitude(double instflux) const;

  friend bool operator==(const PhotoCalib&, const PhotoCalib&) = default;
};

}  // namespace majordome::image
