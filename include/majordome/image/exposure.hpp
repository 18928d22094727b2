// Exposure: a MaskedImage<float> with the small, separable descriptions of where it
// came from and how to interpret it.
//
// Each component is its own type in its own header and is optional: the Wcs and Psf
// are shared, immutable objects (shared_ptr<const>), the others plain values. Nothing
// here knows how a component is computed; the file format is in exposure_fits.hpp.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "majordome/image/box.hpp"
#include "majordome/image/detector_info.hpp"
#include "majordome/image/filter_label.hpp"
#include "majordome/image/header.hpp"
#include "majordome/image/mask.hpp"
#include "majordome/image/masked_image.hpp"
#include "majordome/image/photo_calib.hpp"
#include "majordome/image/psf.hpp"
#include "majordome/image/visit_info.hpp"
#include "majordome/image/wcs.hpp"

namespace majordome::image {

// Handle semantics for the pixels (as MaskedImage); components are copied by value
// (Wcs/Psf pointers are shared, which is safe as they are immutable).
class Exposure {
 public:
  Exposure() = default;
  Exposure(int width, int height, MaskPlanes planes = MaskPlanes::standard())
      : masked_image_(width, height, std::move(planes)) {}
  explicit Exposure(const Box2I& bbox, MaskPlanes planes = MaskPlanes::standard())
      : masked_image_(bbox, std::move(planes)) {}
  explicit Exposure(MaskedImage<float> masked_image) : masked_image_(std::move(masked_image)) {}

  const MaskedImage<float>& masked_image() const { return masked_image_; }
  void set_masked_image(MaskedImage<float> mi) { masked_image_ = std::move(mi); }
  const Image<float>& image() const { return masked_image_.image(); }
  const Mask& mask() const { return masked_image_.mask(); }
  const Image<VariancePixel>& variance() const { return masked_image_.variance(); }
  Box2I bbox() const { return masked_image_.bbox(); }
  int width() const { return masked_image_.width(); }
  int height() const { return masked_image_.height(); }

  // The WCS maps this exposure's parent pixel coordinates (those of bbox()).
  const std::shared_ptr<const Wcs>& wcs() const { return wcs_; }
  void set_wcs(std::shared_ptr<const Wcs> wcs) { wcs_ = std::move(wcs); }
  const std::shared_ptr<const Psf>& psf() const { return psf_; }
  void set_psf(std::shared_ptr<const Psf> psf) { psf_ = std::move(psf); }
  const std::optional<PhotoCalib>& photo_calib() const { return photo_calib_; }
  void set_photo_calib(std::optional<PhotoCalib> pc) { photo_calib_ = std::move(pc); }
  const std::optional<FilterLabel>& filter() const { return filter_; }
  void set_filter(std::optional<FilterLabel> f) { filter_ = std::move(f); }
  const std::optional<VisitInfo>& visit_info() const { return visit_info_; }
  void set_visit_info(std::optional<VisitInfo> v) { visit_info_ = std::move(v); }
  const std::optional<DetectorInfo>& detector() const { return detector_; }
  void set_detector(std::optional<DetectorInfo> d) { detector_ = std::move(d); }

  // Free-form header cards (the primary header of the file, minus the keywords that the
  // format itself defines).
  Header& metadata() { return metadata_; }
  const Header& metadata() const { return metadata_; }

  // Same components, pixels of `parent_box` shared.
  Exposure subimage(const Box2I& parent_box) const;
  // Same components, pixels copied.
  Exposure clone() const;

 private:
  MaskedImage<float> masked_image_;
  std::shared_ptr<const Wcs> wcs_;
  std::shared_ptr<const Psf> psf_;
  std::optional<PhotoCalib> photo_calib_;
  std::optional<FilterLabel> filter_;
  std::optional<VisitInfo> visit_info_;
  std::optional<DetectorInfo> detector_;
  Header metadata_;
};

}  // namespace majordome::image
