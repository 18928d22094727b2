#include "majordome/image/exposure_fits.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "exposure_keywords.hpp"
#include "fits_cards.hpp"
#include "majordome/core/error.hpp"
#include "majordome/datastore/atomic_file.hpp"

namespace majordome::image {

namespace {

constexpr const char* kVersionKey = "MJDFMTV";
constexpr const char* kKindKey = "MJDKIND";
constexpr const char* kComponentsKey = "MJDCOMP";

// Keywords the format owns in the primary HDU; never copied from or to metadata.
bool is_reserved_primary_keyword(std::string_view key) {
  const std::string k = detail::to_upper(key);
  if (k == kVersionKey || k == kKindKey || k == kComponentsKey) return true;
  for (std::string_view prefix : {"FLT_", "PC_", "VI_", "DET_"}) {
    if (k.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

namespace detail {

void write_components(const Exposure& e, Header& h) {
  std::string present;
  auto mark = [&present](const char* name) { present += (present.empty() ? "" : ",") + std::string(name); };
  if (e.wcs()) mark("WCS");
  if (e.psf()) mark("PSF");
  if (const auto& f = e.filter()) {
    mark("FILTER");
    if (!f->band.empty()) h.set("FLT_BAND", f->band, "abstract filter (band)");
    if (!f->physical.empty()) h.set("FLT_PHYS", f->physical, "physical filter");
  }
  if (const auto& pc = e.photo_calib()) {
    mark("PHOTOCALIB");
    h.set("PC_MEAN", pc->calibration_mean, "[nJy/count] flux calibration");
    h.set("PC_ERR", pc->calibration_error, "[nJy/count] its uncertainty");
  }
  if (const auto& v = e.visit_info()) {
    mark("VISITINFO");
    if (v->id) h.set("VI_ID", *v->id, "exposure or visit id");
    if (v->exposure_time_s) h.set("VI_EXPT", *v->exposure_time_s, "[s] exposure time");
    if (v->dark_time_s) h.set("VI_DARKT", *v->dark_time_s, "[s] dark time");
    if (v->date) {
      h.set("VI_DATE", v->date->tai_iso(9, 'T'), "middle of exposure (TAI)");
      h.set("VI_MJD", v->date->mjd_tai(), "[d] middle of exposure, MJD (TAI)");
    }
    if (v->boresight_ra_deg) h.set("VI_RA", *v->boresight_ra_deg, "[deg] boresight RA");
    if (v->boresight_dec_deg) h.set("VI_DEC", *v->boresight_dec_deg, "[deg] boresight Dec");
    if (v->boresight_rotation_deg) h.set("VI_ROT", *v->boresight_rotation_deg, "[deg] rotation angle");
    if (v->boresight_airmass) h.set("VI_AIRM", *v->boresight_airmass, "boresight airmass");
    if (v->boresight_az_deg) h.set("VI_AZ", *v->boresight_az_deg, "[deg] boresight azimuth");
    if (v->boresight_alt_deg) h.set("VI_ALT", *v->boresight_alt_deg, "[deg] boresight altitude");
    if (!v->instrument.empty()) h.set("VI_INST", v->instrument, "instrument");
    if (!v->observation_type.empty()) h.set("VI_OBSTY", v->observation_type, "observation type");
  }
  if (const auto& d = e.detector()) {
    mark("DETECTOR");
    if (d->id) h.set("DET_ID", *d->id, "detector number");
    if (!d->name.empty()) h.set("DET_NAME", d->name, "detector name");
    if (!d->serial.empty()) h.set("DET_SER", d->serial, "detector serial");
    if (!d->physical_type.empty()) h.set("DET_TYPE", d->physical_type, "detector type");
  }
  h.set(kComponentsKey, present, "components stored in this file");
}

Header xy0_cards(Point2I xy0) {
  Header h;
  // xy0 as IRAF's LTV and as afw's alternate linear WCS "A" (parent = local + xy0).
  h.set("LTV1", -xy0.x, "pixel offset: local - parent");
  h.set("LTV2", -xy0.y, "pixel offset: local - parent");
  h.set("CRPIX1A", 1, "");
  h.set("CRPIX2A", 1, "");
  h.set("CRVAL1A", xy0.x, "parent column of the first pixel (xy0)");
  h.set("CRVAL2A", xy0.y, "parent row of the first pixel (xy0)");
  h.set("CTYPE1A", "LINEAR");
  h.set("CTYPE2A", "LINEAR");
  h.set("CUNIT1A", "pixel");
  h.set("CUNIT2A", "pixel");
  return h;
}

}  // namespace detail

namespace {

using detail::read_components;
using detail::read_xy0;
using detail::write_components;

// `components` gives the WCS (and everything but the pixels), `xy0` the pixels' origin.
Header pixel_header(const Exposure& components, Point2I xy0, const char* extname) {
  Header h;
  h.set("EXTNAME", extname);
  h.set("EXTTYPE", extname, "as afw");
  if (components.wcs()) h.merge(components.wcs()->shifted(xy0.x, xy0.y).to_header());
  h.merge(detail::xy0_cards(xy0));
  return h;
}

}  // namespace

ExposureWriteOptions ExposureWriteOptions::lossless() {
  ExposureWriteOptions o;
  o.image = CompressionOptions::lossless_float();
  o.mask = CompressionOptions::lossless_integer();
  o.variance = CompressionOptions::lossless_float();
  return o;
}

namespace {

// The file of an Exposure (T = float) or an ExposureI (T = int32): `components` gives
// everything but the pixels.
template <typename T>
void write_planes(const std::filesystem::path& path, const Exposure& components, const Image<T>& image,
                  const Mask& mask, const Image<VariancePixel>& variance, const ExposureWriteOptions& options) {
  std::optional<Catalog> psf_table;
  if (const auto& psf = components.psf()) {
    psf_table = psf->to_catalog();
    if (psf->persistence_name().empty() || !psf_table) {
      throw UnsupportedError(path.string() +
                             ": the exposure's PSF model cannot be saved (no file representation)");
    }
    psf_table->metadata().set("PSFTYPE", psf->persistence_name());
  }
  const Point2I xy0 = image.bbox().min();
  FitsFile f(path, FitsMode::kCreate);
  Header primary;
  for (const auto& card : components.metadata()) {
    if (card.is_commentary() ||
        (!is_structural_keyword(card.keyword) && !is_reserved_primary_keyword(card.keyword))) {
      primary.append(card);
    }
  }
  primary.set(kVersionKey, kExposureFormatVersion, "majordome Exposure format version");
  primary.set(kKindKey, "EXPOSURE", "majordome file kind");
  write_components(components, primary);
  f.write_empty_image(primary);

  f.write_image(image, pixel_header(components, xy0, "IMAGE"), options.image);

  Header mask_header = pixel_header(components, xy0, "MASK");
  for (const auto& [bit, name] : mask.planes().entries()) {
    mask_header.set("MP_" + name, bit, "mask plane bit");
  }
  f.write_image<MaskPixel>(mask, mask_header, options.mask);

  f.write_image(variance, pixel_header(components, xy0, "VARIANCE"), options.variance);
  if (psf_table) f.write_catalog(*psf_table, "PSF");
  f.close();
}

}  // namespace

void write_exposure_file(const std::filesystem::path& path, const Exposure& exposure,
                         const ExposureWriteOptions& options) {
  write_planes(path, exposure, exposure.image(), exposure.mask(), exposure.variance(), options);
}

void write_exposure_file(const std::filesystem::path& path, const ExposureI& exposure,
                         const ExposureWriteOptions& options) {
  write_planes(path, exposure.components(), exposure.image(), exposure.mask(), exposure.variance(), options);
}

void write_exposure(const std::filesystem::path& path, const Exposure& exposure,
                    const ExposureWriteOptions& options) {
  datastore::AtomicFile file(path, {datastore::Overwrite::kReplace});
  write_exposure_file(file.temporary_path(), exposure, options);
  file.commit();
}

namespace {

// The index of the pixel HDU `name`: by EXTNAME (this format), EXTTYPE (afw), or position.
int find_pixel_hdu(FitsFile& f, const std::string& name, int fallback) {
  if (auto i = f.find_extname(name)) return *i;
  const int n = f.hdu_count();
  for (int i = 1; i < n; ++i) {
    f.move_to(i);
    const Header h = f.read_header();
    if (auto t = h.find("EXTTYPE"); t && std::holds_alternative<std::string>(*t) &&
                                    detail::iequals(std::get<std::string>(*t), name)) {
      return i;
    }
  }
  if (fallback < n) return fallback;
  throw CorruptFileError(f.path().string() + ": no " + name + " HDU: not an Exposure file");
}

}  // namespace

namespace detail {

Point2I read_xy0(const Header& h) {
  if (auto ct = h.find("CTYPE1A"); ct && std::holds_alternative<std::string>(*ct) &&
                                     std::get<std::string>(*ct) == "LINEAR") {
    const auto x0 = h.find_double("CRVAL1A").value_or(0.0) - (h.find_double("CRPIX1A").value_or(1.0) - 1.0);
    const auto y0 = h.find_double("CRVAL2A").value_or(0.0) - (h.find_double("CRPIX2A").value_or(1.0) - 1.0);
    return {static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0))};
  }
  return {static_cast<int>(-h.find_int("LTV1").value_or(0)),
          static_cast<int>(-h.find_int("LTV2").value_or(0))};
}

std::optional<double> opt_double(const Header& h, const char* key) { return h.find_double(key); }

void read_components(const Header& h, Exposure& e, const std::string& file) {
  const auto listed = h.find_string(kComponentsKey);
  auto has = [&](const char* name, const char* any_key_prefix) {
    if (listed) return ("," + *listed + ",").find("," + std::string(name) + ",") != std::string::npos;
    for (const auto& card : h) {
      if (card.keyword.rfind(any_key_prefix, 0) == 0) return true;
    }
    return false;
  };
  try {
    if (has("FILTER", "FLT_")) {
      e.set_filter(FilterLabel{h.find_string("FLT_BAND").value_or(""),
                               h.find_string("FLT_PHYS").value_or("")});
    }
    if (has("PHOTOCALIB", "PC_")) {
      e.set_photo_calib(PhotoCalib{h.find_double("PC_MEAN").value_or(1.0),
                                   h.find_double("PC_ERR").value_or(0.0)});
    }
    if (has("VISITINFO", "VI_")) {
      VisitInfo v;
      v.id = h.find_int("VI_ID");
      v.exposure_time_s = opt_double(h, "VI_EXPT");
      v.dark_time_s = opt_double(h, "VI_DARKT");
      if (auto d = h.find_string("VI_DATE")) {
        v.date = TaiTime::from_tai_iso(*d);
      } else if (auto mjd = h.find_double("VI_MJD")) {
        v.date = TaiTime::from_mjd_tai(*mjd);
      }
      v.boresight_ra_deg = opt_double(h, "VI_RA");
      v.boresight_dec_deg = opt_double(h, "VI_DEC");
      v.boresight_rotation_deg = opt_double(h, "VI_ROT");
      v.boresight_airmass = opt_double(h, "VI_AIRM");
      v.boresight_az_deg = opt_double(h, "VI_AZ");
      v.boresight_alt_deg = opt_double(h, "VI_ALT");
      v.instrument = h.find_string("VI_INST").value_or("");
      v.observation_type = h.find_string("VI_OBSTY").value_or("");
      e.set_visit_info(v);
    }
    if (has("DETECTOR", "DET_")) {
      DetectorInfo d;
      if (auto id = h.find_int("DET_ID")) d.id = static_cast<int>(*id);
      d.name = h.find_string("DET_NAME").value_or("");
      d.serial = h.find_string("DET_SER").value_or("");
      d.physical_type = h.find_string("DET_TYPE").value_or("");
      e.set_detector(d);
    }
  } catch (const InvalidArgumentError& err) {
    throw CorruptFileError(file + ": invalid component keyword: " + err.what());
  }
}

}  // namespace detail

namespace {

}  // namespace

ExposureReader::ExposureReader(const std::filesystem::path& path)
    : file_(path, FitsMode::kRead), name_(path.string()) {
  const Header primary = file_.read_header();
  if (primary.find(kVersionKey)) {
    const auto v = primary.find_int(kVersionKey);
    if (!v) throw CorruptFileError(name_ + ": " + kVersionKey + " is not an integer");
    if (*v > kExposureFormatVersion) {
      throw CorruptFileError(name_ + ": Exposure format version " + std::to_string(*v) +
                             " is newer than this majordome reads (" +
                             std::to_string(kExposureFormatVersion) + "); upgrade majordome");
    }
  }
  read_components(primary, components_, name_);
  for (const auto& card : primary) {
    if (detail::is_cfitsio_boilerplate(card)) continue;
    if (card.is_commentary() ||
        (!is_structural_keyword(card.keyword) && !is_reserved_primary_keyword(card.keyword))) {
      components_.metadata().append(card);
    }
  }
}

const Header& ExposureReader::image_header() {
  if (!image_header_) {
    image_hdu_ = find_pixel_hdu(file_, "IMAGE", 1);
    file_.move_to(image_hdu_);
    image_header_ = file_.read_header();
    xy0_ = read_xy0(*image_header_);
  }
  return *image_header_;
}

Box2I ExposureReader::bbox() {
  image_header();
  file_.move_to(image_hdu_);
  const auto info = file_.image_info();
  if (info.shape.size() < 2) throw CorruptFileError(name_ + ": the IMAGE HDU is not a 2-D image");
  return Box2I(xy0_, {static_cast<int>(info.shape[0]), static_cast<int>(info.shape[1])});
}

std::shared_ptr<const Wcs> ExposureReader::wcs() {
  const Header& h = image_header();
  try {
    if (auto wcs = Wcs::find_in_header(h)) return std::make_shared<const Wcs>(wcs->shifted(-xy0_.x, -xy0_.y));
  } catch (const Error& e) {
    throw CorruptFileError(name_ + ": the IMAGE HDU's WCS cannot be used: " + e.what());
  }
  return nullptr;
}

std::shared_ptr<const Psf> ExposureReader::psf(const std::map<std::string, PsfReader>& readers) {
  auto psf_hdu = file_.find_extname("PSF");
  if (!psf_hdu) return nullptr;
  file_.move_to(*psf_hdu);
  const Catalog table = file_.read_catalog();
  const std::string type = table.metadata().find_string("PSFTYPE").value_or("");
  if (auto it = readers.find(type); it != readers.end()) return it->second(table);
  if (type == "GaussianPsf") return GaussianPsf::from_catalog(table);
  return nullptr;
}

template <typename T>
Image<T> ExposureReader::read_plane(int hdu, const std::optional<Box2I>& bbox) {
  image_header();
  std::optional<Box2I> local;
  if (bbox) {
    const Box2I stored = this->bbox();
    if (!stored.contains(*bbox)) {
      throw InvalidArgumentError(fmt::format("{}: the box {} is not inside the image's {}", name_, bbox->str(),
                                             stored.str()));
    }
    local = bbox->shifted(-xy0_.x, -xy0_.y);
  }
  file_.move_to(hdu);
  Image<T> img = local ? file_.read_image<T>(*local) : file_.read_image<T>();
  img.set_xy0({img.xy0().x + xy0_.x, img.xy0().y + xy0_.y});
  return img;
}

Image<float> ExposureReader::image(const std::optional<Box2I>& bbox) {
  image_header();
  return read_plane<float>(image_hdu_, bbox);
}

Image<std::int32_t> ExposureReader::image_i(const std::optional<Box2I>& bbox) {
  image_header();
  return read_plane<std::int32_t>(image_hdu_, bbox);
}

Mask ExposureReader::mask(const std::optional<Box2I>& bbox) {
  if (mask_hdu_ < 0) mask_hdu_ = find_pixel_hdu(file_, "MASK", 2);
  Image<MaskPixel> pixels = read_plane<MaskPixel>(mask_hdu_, bbox);
  file_.move_to(mask_hdu_);
  const Header mask_header = file_.read_header();
  MaskPlanes planes;
  for (const auto& card : mask_header) {
    if (card.keyword.size() > 3 && detail::to_upper(card.keyword.substr(0, 3)) == "MP_") {
      const auto* bit = std::get_if<std::int64_t>(&card.value);
      try {
        if (bit == nullptr) throw InvalidArgumentError("the value is not an integer");
        planes.add(card.keyword.substr(3), static_cast<int>(*bit));
      } catch (const Error& e) {
        throw CorruptFileError(name_ + ": mask plane keyword " + card.keyword + ": " + e.what());
      }
    }
  }
  return Mask(std::move(pixels), std::move(planes));
}

Image<VariancePixel> ExposureReader::variance(const std::optional<Box2I>& bbox) {
  if (variance_hdu_ < 0) variance_hdu_ = find_pixel_hdu(file_, "VARIANCE", 3);
  return read_plane<VariancePixel>(variance_hdu_, bbox);
}

Exposure ExposureReader::read(const ExposureReadOptions& options) {
  Image<float> pixels = image(options.bbox);
  Mask mask_plane = mask(options.bbox);
  Image<VariancePixel> variance_plane = variance(options.bbox);
  if (mask_plane.bbox() != pixels.bbox() || variance_plane.bbox() != pixels.bbox()) {
    throw CorruptFileError(name_ + ": the image, mask and variance HDUs differ in size");
  }
  Exposure exposure = components_.clone();
  exposure.set_masked_image(MaskedImage<float>(pixels, std::move(mask_plane), variance_plane));
  exposure.set_wcs(wcs());
  exposure.set_psf(psf(options.psf_readers));
  return exposure;
}

ExposureI ExposureReader::read_i(const ExposureReadOptions& options) {
  Image<std::int32_t> pixels = image_i(options.bbox);
  Mask mask_plane = mask(options.bbox);
  Image<VariancePixel> variance_plane = variance(options.bbox);
  if (mask_plane.bbox() != pixels.bbox() || variance_plane.bbox() != pixels.bbox()) {
    throw CorruptFileError(name_ + ": the image, mask and variance HDUs differ in size");
  }
  ExposureI exposure(std::move(pixels), std::move(mask_plane), std::move(variance_plane));
  exposure.components() = components_.clone();
  exposure.components().set_wcs(wcs());
  exposure.components().set_psf(psf(options.psf_readers));
  return exposure;
}

Exposure read_exposure(const std::filesystem::path& path, const ExposureReadOptions& options) {
  return ExposureReader(path).read(options);
}

}  // namespace majordome::image
