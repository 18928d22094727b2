#include "majordome/image/exposure_fits.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <string>
#include <system_error>

#include "fits_cards.hpp"
#include "majordome/core/error.hpp"

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

Header pixel_header(const Exposure& e, const char* extname) {
  Header h;
  h.set("EXTNAME", extname);
  h.set("EXTTYPE", extname, "as afw");
  const Point2I xy0 = e.bbox().min();
  if (e.wcs()) h.merge(e.wcs()->shifted(xy0.x, xy0.y).to_header());
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

std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" +
                               std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
                               std::to_string(counter++));
}

}  // namespace

ExposureWriteOptions ExposureWriteOptions::lossless() {
  ExposureWriteOptions o;
  o.image = CompressionOptions::lossless_float();
  o.mask = CompressionOptions::lossless_integer();
  o.variance = CompressionOptions::lossless_float();
  return o;
}

void write_exposure(const std::filesystem::path& path, const Exposure& exposure,
                    const ExposureWriteOptions& options) {
  std::optional<Catalog> psf_table;
  if (const auto& psf = exposure.psf()) {
    psf_table = psf->to_catalog();
    if (psf->persistence_name().empty() || !psf_table) {
      throw UnsupportedError(path.string() +
                             ": the exposure's PSF model cannot be saved (no file representation)");
    }
    psf_table->metadata().set("PSFTYPE", psf->persistence_name());
  }
  const auto tmp = temporary_sibling(path);
  try {
    FitsFile f(tmp, FitsMode::kCreate);
    Header primary;
    for (const auto& card : exposure.metadata()) {
      if (card.is_commentary() ||
          (!is_structural_keyword(card.keyword) && !is_reserved_primary_keyword(card.keyword))) {
        primary.append(card);
      }
    }
    primary.set(kVersionKey, kExposureFormatVersion, "majordome Exposure format version");
    primary.set(kKindKey, "EXPOSURE", "majordome file kind");
    write_components(exposure, primary);
    f.write_empty_image(primary);

    Header image_header = pixel_header(exposure, "IMAGE");
    f.write_image(exposure.image(), image_header, options.image);

    Header mask_header = pixel_header(exposure, "MASK");
    for (const auto& [bit, name] : exposure.mask().planes().entries()) {
      mask_header.set("MP_" + name, bit, "mask plane bit");
    }
    f.write_image<MaskPixel>(exposure.mask(), mask_header, options.mask);

    f.write_image(exposure.variance(), pixel_header(exposure, "VARIANCE"), options.variance);
    if (psf_table) f.write_catalog(*psf_table, "PSF");
    f.close();
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw IoError(path.string() + ": cannot move the written file into place: " + ec.message());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
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

}  // namespace

Exposure read_exposure(const std::filesystem::path& path, const ExposureReadOptions& options) {
  FitsFile f(path, FitsMode::kRead);
  const std::string file = path.string();
  const Header primary = f.read_header();
  if (auto version = primary.find(kVersionKey)) {
    const auto v = primary.find_int(kVersionKey);
    if (!v) throw CorruptFileError(file + ": " + kVersionKey + " is not an integer");
    if (*v > kExposureFormatVersion) {
      throw CorruptFileError(file + ": Exposure format version " + std::to_string(*v) +
                             " is newer than this majordome reads (" +
                             std::to_string(kExposureFormatVersion) + "); upgrade majordome");
    }
  }
  const int image_hdu = find_pixel_hdu(f, "IMAGE", 1);
  const int mask_hdu = find_pixel_hdu(f, "MASK", 2);
  const int variance_hdu = find_pixel_hdu(f, "VARIANCE", 3);

  f.move_to(image_hdu);
  const Header image_header = f.read_header();
  const Point2I xy0 = read_xy0(image_header);
  std::optional<Box2I> local;
  if (options.bbox) local = options.bbox->shifted(-xy0.x, -xy0.y);
  auto read_plane = [&]<typename T>(int hdu, T) {
    f.move_to(hdu);
    Image<T> img = local ? f.read_image<T>(*local) : f.read_image<T>();
    img.set_xy0({img.xy0().x + xy0.x, img.xy0().y + xy0.y});
    return img;
  };
  Image<float> image = read_plane(image_hdu, 0.0F);
  Image<MaskPixel> mask_pixels = read_plane(mask_hdu, MaskPixel{0});
  f.move_to(mask_hdu);
  const Header mask_header = f.read_header();
  MaskPlanes planes;
  for (const auto& card : mask_header) {
    if (card.keyword.size() > 3 && detail::to_upper(card.keyword.substr(0, 3)) == "MP_") {
      const auto* bit = std::get_if<std::int64_t>(&card.value);
      try {
        if (bit == nullptr) throw InvalidArgumentError("the value is not an integer");
        planes.add(card.keyword.substr(3), static_cast<int>(*bit));
      } catch (const Error& e) {
        throw CorruptFileError(file + ": mask plane keyword " + card.keyword + ": " + e.what());
      }
    }
  }
  Image<VariancePixel> variance = read_plane(variance_hdu, VariancePixel{0});
  if (mask_pixels.bbox() != image.bbox() || variance.bbox() != image.bbox()) {
    throw CorruptFileError(file + ": the image, mask and variance HDUs differ in size");
  }
  Exposure exposure(MaskedImage<float>(image, Mask(std::move(mask_pixels), std::move(planes)),
                                       variance));
  try {
    if (auto wcs = Wcs::find_in_header(image_header)) {
      exposure.set_wcs(std::make_shared<const Wcs>(wcs->shifted(-xy0.x, -xy0.y)));
    }
  } catch (const Error& e) {
    throw CorruptFileError(file + ": the IMAGE HDU's WCS cannot be used: " + e.what());
  }
  read_components(primary, exposure, file);

  if (auto psf_hdu = f.find_extname("PSF")) {
    f.move_to(*psf_hdu);
    const Catalog table = f.read_catalog();
    const std::string type = table.metadata().find_string("PSFTYPE").value_or("");
    if (auto it = options.psf_readers.find(type); it != options.psf_readers.end()) {
      exposure.set_psf(it->second(table));
    } else if (type == "GaussianPsf") {
      exposure.set_psf(GaussianPsf::from_catalog(table));
    }
  }

  for (const auto& card : primary) {
    if (detail::is_cfitsio_boilerplate(card)) continue;
    if (card.is_commentary() ||
        (!is_structural_keyword(card.keyword) && !is_reserved_primary_keyword(card.keyword))) {
      exposure.metadata().append(card);
    }
  }
  return exposure;
}

}  // namespace majordome::image
