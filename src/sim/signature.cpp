#include "majordome/sim/signature.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/sim/scene.hpp"

namespace majordome::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Pixel-to-pixel response is stronger in the blue (thinner effective depletion).
double band_response_scale(std::string_view band) {
  if (band == "u") return 1.5;
  if (band == "g") return 1.2;
  if (band == "i") return 0.9;
  if (band == "z") return 0.8;
  if (band == "y") return 0.7;
  return 1.0;
}

// A sample of Poisson(mean): exact below 50 electrons, Gaussian above (skewness < 0.14 there,
// far below what any measurement on a pixel can see) because it is ~5× faster.
double photo_electrons(Rng& rng, double mean) {
  if (!(mean > 0.0)) return 0.0;
  if (mean < 50.0) return static_cast<double>(rng.poisson(mean));
  return std::max(0.0, std::round(mean + std::sqrt(mean) * rng.normal()));
}

}  // namespace

DetectorModel::DetectorModel(const instrument::Camera& camera, const instrument::Detector& detector,
                             std::uint64_t seed, const Effects& effects)
    : camera_(&camera), detector_(&detector), effects_(effects) {
  Rng rng(seed, {key(Stream::kDetector), static_cast<std::uint64_t>(detector.id)});
  for (std::size_t i = 0; i < detector.amplifiers.size(); ++i) amp_response_.push_back(1.0 + 0.01 * rng.normal());
  const int w = detector.bbox.width(), h = detector.bbox.height();
  pixel_response_ = image::ImageF(w, h);
  for (int y = 0; y < h; ++y)
    for (float& v : pixel_response_.row(y)) v = static_cast<float>(rng.normal());

  // Defect counts scale with the area (per 4k × 4k sensor: 2 bad columns, 40 hot pixels,
  // 20 dead 2 × 2 clusters).
  const double area = static_cast<double>(w) * h / 16.0e6;
  const auto count = [&](double per_sensor) { return std::max<long>(1, std::lround(per_sensor * area)); };
  auto random_amp = [&]() -> const instrument::Amplifier& {
    return detector.amplifiers[rng.below(detector.amplifiers.size())];
  };
  for (long i = 0; i < count(2.0); ++i) {
    const auto& amp = random_amp();
    const int x = amp.bbox.min_x() + static_cast<int>(rng.below(static_cast<std::uint64_t>(amp.bbox.width())));
    const int y = amp.bbox.min_y() + static_cast<int>(rng.below(static_cast<std::uint64_t>(amp.bbox.height())));
    // The column is bad from the defect to the amplifier edge away from the serial register.
    const bool up = !amp.raw_flip_y;
    const int y0 = up ? y : amp.bbox.min_y(), y1 = up ? amp.bbox.end_y() : y + 1;
    defects_.push_back({image::Box2I::from_begin_end(x, y0, x + 1, y1), DefectKind::kBadColumn});
  }
  for (long i = 0; i < count(40.0); ++i) {
    const int x = static_cast<int>(rng.below(static_cast<std::uint64_t>(w)));
    const int y = static_cast<int>(rng.below(static_cast<std::uint64_t>(h)));
    defects_.push_back({image::Box2I({x, y}, {1, 1}), DefectKind::kHotPixel});
  }
  for (long i = 0; i < count(20.0); ++i) {
    const int x = static_cast<int>(rng.below(static_cast<std::uint64_t>(w - 1)));
    const int y = static_cast<int>(rng.below(static_cast<std::uint64_t>(h - 1)));
    defects_.push_back({image::Box2I({x, y}, {2, 2}), DefectKind::kDeadPixel});
  }
  if (!effects_.defects) defects_.clear();

  for (const auto& d : camera.detectors())
    for (const auto& c : {image::Point2D{-0.5, -0.5}, image::Point2D{d.bbox.width() - 0.5, -0.5},
                          image::Point2D{-0.5, d.bbox.height() - 0.5},
                          image::Point2D{d.bbox.width() - 0.5, d.bbox.height() - 0.5}}) {
      const auto fp = camera.pixel_to_focal_plane(d, c);
      fp_radius_mm_ = std::max(fp_radius_mm_, std::hypot(fp[0], fp[1]));
    }
}

void DetectorModel::flat_row(std::string_view band, int y, std::span<float> out) const {
  const auto& det = *detector_;
  const double rms = effects_.pixel_response_rms * band_response_scale(band);
  const auto pr = pixel_response_.row(y);
  // The focal-plane position is affine in x along a row.
  const auto fp0 = camera_->pixel_to_focal_plane(det, {0.0, static_cast<double>(y)});
  const auto fp1 = camera_->pixel_to_focal_plane(det, {1.0, static_cast<double>(y)});
  const double sx = fp1[0] - fp0[0], sy = fp1[1] - fp0[1];
  for (std::size_t a = 0; a < det.amplifiers.size(); ++a) {
    const auto& box = det.amplifiers[a].bbox;
    if (y < box.begin_y() || y >= box.end_y()) continue;
    for (int x = box.begin_x(); x < box.end_x(); ++x) {
      const double fx = fp0[0] + sx * x, fy = fp0[1] + sy * x;
      const double rho2 = (fx * fx + fy * fy) / (fp_radius_mm_ * fp_radius_mm_);
      const auto i = static_cast<std::size_t>(x);
      out[i] = static_cast<float>((1.0 - effects_.vignetting * rho2) * amp_response_[a] * (1.0 + rms * pr[i]));
    }
  }
  for (const auto& d : defects_) {
    if (d.kind == DefectKind::kHotPixel || y < d.box.begin_y() || y >= d.box.end_y()) continue;
    const float factor = d.kind == DefectKind::kBadColumn ? 0.1F : 0.0F;
    for (int x = d.box.begin_x(); x < d.box.end_x(); ++x) out[static_cast<std::size_t>(x)] *= factor;
  }
}

image::ImageF DetectorModel::flat(std::string_view band) const {
  image::ImageF img(detector_->bbox);
  for (int y = 0; y < img.height(); ++y) flat_row(band, y, img.row(y));
  return img;
}

void DetectorModel::dark_row(int y, std::span<float> out) const {
  for (const auto& amp : detector_->amplifiers) {
    if (y < amp.bbox.begin_y() || y >= amp.bbox.end_y()) continue;
    for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); ++x)
      out[static_cast<std::size_t>(x)] = static_cast<float>(amp.dark_current);
  }
  for (const auto& d : defects_) {
    if (d.kind != DefectKind::kHotPixel || y < d.box.begin_y() || y >= d.box.end_y()) continue;
    for (int x = d.box.begin_x(); x < d.box.end_x(); ++x)
      out[static_cast<std::size_t>(x)] = static_cast<float>(effects_.hot_pixel_dark);
  }
}

image::ImageF DetectorModel::dark() const {
  image::ImageF img(detector_->bbox);
  for (int y = 0; y < img.height(); ++y) dark_row(y, img.row(y));
  return img;
}

double DetectorModel::bias_structure_adu(const instrument::Amplifier& /*amp*/, image::Point2I raw) const {
  if (!effects_.bias_structure) return 0.0;
  // The output amplifier settles over the first ~25 pixels of each serial read-out.
  return 4.0 * std::exp(-raw.x / 25.0);
}

image::ImageF DetectorModel::bias() const {
  image::ImageF img(detector_->bbox);
  for (const auto& amp : detector_->amplifiers)
    for (int y = amp.bbox.begin_y(); y < amp.bbox.end_y(); ++y)
      for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); ++x)
        img(x, y) = static_cast<float>(bias_structure_adu(amp, amp.raw_from_assembled({x, y})) * amp.gain);
  return img;
}

namespace {

// Cosmic-ray muons: straight tracks of 1–40 pixels depositing ~1500 e⁻ per pixel.
void add_cosmic_rays(const image::ImageF& e, const instrument::Detector& det, double dark_time, double rate, Rng& rng) {
  const double cm = det.pixel_size_um * 1e-4;
  const double area_cm2 = det.bbox.width() * cm * det.bbox.height() * cm;
  const auto n = rng.poisson(rate * area_cm2 * dark_time);
  for (std::int64_t i = 0; i < n; ++i) {
    double x = rng.uniform(0.0, det.bbox.width()), y = rng.uniform(0.0, det.bbox.height());
    const double length = rng.uniform(1.0, 40.0), angle = rng.uniform(0.0, kPi);
    const double dx = std::cos(angle), dy = std::sin(angle);
    for (double s = 0.0; s < length; s += 1.0, x += dx, y += dy) {
      const int ix = static_cast<int>(x), iy = static_cast<int>(y);
      if (ix < 0 || iy < 0 || ix >= det.bbox.width() || iy >= det.bbox.height()) break;
      e(ix, iy) += static_cast<float>(std::max(100.0, rng.normal(1500.0, 500.0)));
    }
  }
}

// Charge above the full well spills up and down the column, within the amplifier.
void bleed(const image::ImageF& e, const instrument::Amplifier& amp) {
  const float full = static_cast<float>(amp.saturation * amp.gain);
  const int y0 = amp.bbox.begin_y(), y1 = amp.bbox.end_y();
  for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); ++x) {
    for (int y = y0; y < y1; ++y) {
      float& v = e(x, y);
      if (v <= full) continue;
      double excess = v - full;
      v = full;
      double up = 0.5 * excess, down = excess - up;
      for (int yy = y + 1; yy < y1 && up > 0.0; ++yy) {
        const double room = full - e(x, yy);
        if (room <= 0.0) continue;
        const double t = std::min(room, up);
        e(x, yy) += static_cast<float>(t);
        up -= t;
      }
      for (int yy = y - 1; yy >= y0 && down > 0.0; --yy) {
        const double room = full - e(x, yy);
        if (room <= 0.0) continue;
        const double t = std::min(room, down);
        e(x, yy) += static_cast<float>(t);
        down -= t;
      }
    }
  }
}

// The raw ADU whose linearity correction gives `adu` (Newton on r + Σ k_i r^(i+2) = adu).
double apply_nonlinearity(const std::vector<double>& k, double adu) {
  double r = adu;
  for (int iter = 0; iter < 3; ++iter) {
    double f = r - adu, df = 1.0, power = r;
    for (std::size_t i = 0; i < k.size(); ++i) {
      df += k[i] * static_cast<double>(i + 2) * power;
      power *= r;
      f += k[i] * power;
    }
    r -= f / df;
  }
  return r;
}

}  // namespace

std::vector<image::ImageI> make_raw(const instrument::Camera& camera, const DetectorModel& model,
                                    const ExposureSpec& exposure, const image::ImageF& scene, Rng& rng,
                                    const Effects& effects) {
  const auto& det = model.detector();
  const int w = det.bbox.width(), h = det.bbox.height();
  const bool science = exposure.kind == ExposureKind::kScience;
  if (science && scene.dimensions() != det.bbox.dimensions())
    throw InvalidArgumentError(fmt::format("make_raw: the scene of {} is {}×{}, the detector {}×{}", det.name,
                                           scene.width(), scene.height(), w, h));
  const std::string band =
      exposure.physical_filter.empty() ? std::string() : camera.get_filter(exposure.physical_filter).band;
  const double dark_time = exposure.dark_time_s();

  // 1. Electrons collected.
  image::ImageF e(w, h);
  std::vector<float> flat(static_cast<std::size_t>(w), 1.0F), dark(static_cast<std::size_t>(w), 0.0F);
  for (int y = 0; y < h; ++y) {
    if (effects.flat && (science || exposure.kind == ExposureKind::kFlat)) model.flat_row(band, y, flat);
    if (effects.dark && exposure.kind != ExposureKind::kBias) model.dark_row(y, dark);
    const auto out = e.row(y);
    for (int x = 0; x < w; ++x) {
      const auto i = static_cast<std::size_t>(x);
      double mean = static_cast<double>(dark[i]) * dark_time;
      if (science) mean += static_cast<double>(scene(x, y)) * flat[i];
      if (exposure.kind == ExposureKind::kFlat) mean += effects.flat_level * flat[i];
      out[i] = static_cast<float>(effects.photon_noise ? photo_electrons(rng, mean) : mean);
    }
  }
  if (effects.cosmic_rays && exposure.kind != ExposureKind::kBias)
    add_cosmic_rays(e, det, dark_time, effects.cosmic_ray_rate, rng);

  // 2. Per amplifier: full well, gain, non-linearity, into the raw layout.
  const std::size_t n_amp = det.amplifiers.size();
  std::vector<image::ImageF> signal;
  signal.reserve(n_amp);
  for (const auto& amp : det.amplifiers) {
    if (effects.saturation) bleed(e, amp);
    image::ImageF s(amp.raw_bbox);
    for (int y = amp.bbox.begin_y(); y < amp.bbox.end_y(); ++y) {
      for (int x = amp.bbox.begin_x(); x < amp.bbox.end_x(); ++x) {
        double adu = e(x, y) / amp.gain;
        if (effects.nonlinearity && !amp.linearity_coeffs.empty()) adu = apply_nonlinearity(amp.linearity_coeffs, adu);
        if (effects.saturation) adu = std::min(adu, amp.saturation);
        const auto r = amp.raw_from_assembled({x, y});
        s(r.x, r.y) = static_cast<float>(adu);
      }
    }
    signal.push_back(std::move(s));
  }

  // 3. Crosstalk from bright pixels (fainter ones add < 0.5 ADU anywhere).
  if (effects.crosstalk && !det.crosstalk.empty()) {
    constexpr float kBright = 5000.0F;
    std::vector<std::vector<std::pair<std::size_t, float>>> bright(n_amp);
    for (std::size_t s = 0; s < n_amp; ++s) {
      const auto& img = signal[s];
      for (int y = 0; y < img.height(); ++y) {
        const auto row = img.row(y);
        for (int x = 0; x < img.width(); ++x)
          if (row[static_cast<std::size_t>(x)] > kBright)
            bright[s].emplace_back(static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width()) +
                                       static_cast<std::size_t>(x),
                                   row[static_cast<std::size_t>(x)]);
      }
    }
    for (std::size_t v = 0; v < n_amp; ++v) {
      float* dst = signal[v].data();
      for (std::size_t s = 0; s < n_amp; ++s) {
        const double c = det.crosstalk[v][s];
        if (s == v || c == 0.0 || signal[s].dimensions() != signal[v].dimensions()) continue;
        for (const auto& [index, value] : bright[s]) dst[index] += static_cast<float>(c * value);
      }
    }
  }

  // 4. Bias, read noise, digitisation.
  std::vector<image::ImageI> raws;
  raws.reserve(n_amp);
  for (std::size_t a = 0; a < n_amp; ++a) {
    const auto& amp = det.amplifiers[a];
    const double noise = effects.read_noise ? amp.read_noise / amp.gain : 0.0;
    image::ImageI raw(amp.raw_bbox);
    std::vector<double> structure(static_cast<std::size_t>(raw.width()));
    for (int x = 0; x < raw.width(); ++x)
      structure[static_cast<std::size_t>(x)] = model.bias_structure_adu(amp, {x, 0});
    for (int y = 0; y < raw.height(); ++y) {
      const auto in = signal[a].row(y);
      const auto out = raw.row(y);
      for (int x = 0; x < raw.width(); ++x) {
        const auto i = static_cast<std::size_t>(x);
        double v = amp.bias_level + structure[i] + in[i];
        if (noise > 0.0) v += noise * rng.normal();
        out[i] = static_cast<std::int32_t>(std::clamp(std::round(v), 0.0, kAdcMax));
      }
    }
    raws.push_back(std::move(raw));
  }
  return raws;
}

std::string raw_file_stem(const ExposureSpec& exposure, const instrument::Detector& detector) {
  return exposure.obs_id + "_" + detector.name;
}

namespace {

std::array<double, 3> geocentric(const instrument::Site& site) {
  constexpr double a = 6378137.0, f = 1.0 / 298.257223563;
  const double e2 = f * (2.0 - f);
  const double lat = site.latitude_deg * kPi / 180.0, lon = site.longitude_deg * kPi / 180.0;
  const double n = a / std::sqrt(1.0 - e2 * std::sin(lat) * std::sin(lat));
  return {(n + site.elevation_m) * std::cos(lat) * std::cos(lon), (n + site.elevation_m) * std::cos(lat) * std::sin(lon),
          (n * (1.0 - e2) + site.elevation_m) * std::sin(lat)};
}

std::string header_value(const std::map<std::string, std::string>& m, const std::string& k, const std::string& fallback) {
  const auto it = m.find(k);
  return it == m.end() ? fallback : it->second;
}

}  // namespace

image::Header raw_primary_header(const instrument::Camera& camera, const instrument::Detector& det,
                                 const ExposureSpec& e) {
  image::Header h;
  const auto& ch = camera.header();
  const TaiTime end = e.end();
  const TaiTime written(end.ns() + 1'000'000'000);
  const auto iso = [](TaiTime t) { return t.tai_iso(3, 'T'); };
  const bool science = e.kind == ExposureKind::kScience;
  const std::string imgtype(image_type(e.kind));
  h.set("BINX", 1, "[pixels] binning along X axis");
  h.set("BINY", 1, "[pixels] binning along Y axis");
  h.set("CCDGAIN", 1.0, "Rough guess at overall system gain (e-/DNB)");
  h.set("CCDNOISE", 10.0, "Rough guess at system noise (e- rms)");
  h.set("DATE", iso(written), "Creation Date and Time of File");
  h.set("MJD", written.mjd_tai(), "Modified Julian Date that the file was written");
  h.set("IMGTYPE", imgtype, "BIAS, DARK, FLAT, OBJECT");
  h.set("DATE-OBS", iso(e.start), "Date of the observation (image acquisition)");
  h.set("MJD-OBS", e.start.mjd_tai(), "Modified Julian Date of image acquisition");
  h.set("DATE-TRG", iso(end), "TAI date of trigger");
  h.set("MJD-TRG", end.mjd_tai(), "Modified Julian Date of trigger");
  h.set("OBSID", e.obs_id, "The image name or obs-id");
  h.set("DATE-BEG", iso(e.start), "Time at the start of integration");
  h.set("MJD-BEG", e.start.mjd_tai(), "Modified Julian Date derived from DATE-BEG");
  h.set("DATE-END", iso(end), "End date of the observation");
  h.set("MJD-END", end.mjd_tai(), "Modified Julian Date derived from DATE-END");
  h.set("GROUPID", iso(e.start), "The group ID");
  h.set("BUNIT", "adu", "Brightness units for pixel array");
  h.set("TIMESYS", "TAI", "The time scale used");
  h.set("INSTRUME", header_value(ch, "INSTRUME", camera.name()), "Instrument");
  h.set("TELESCOP", header_value(ch, "TELESCOP", camera.telescope()), "Telescope");
  if (ch.count("FACILITY")) h.set("FACILITY", ch.at("FACILITY"), "Facility name");
  const auto& site = camera.site();
  h.set("OBS-LONG", site.longitude_deg, "[deg] Observatory east longitude");
  h.set("OBS-LAT", site.latitude_deg, "[deg] Observatory latitude");
  h.set("OBS-ELEV", site.elevation_m, "[m] Observatory elevation");
  const auto xyz = geocentric(site);
  h.set("OBSGEO-X", xyz[0], "[m] X-axis Geocentric coordinate");
  h.set("OBSGEO-Y", xyz[1], "[m] Y-axis Geocentric coordinate");
  h.set("OBSGEO-Z", xyz[2], "[m] Z-axis Geocentric coordinate");
  const auto& p = e.pointing;
  const auto begin = horizontal(site, p.ra_deg, p.dec_deg, e.start);
  const auto finish = horizontal(site, p.ra_deg, p.dec_deg, end);
  auto set_or_undefined = [&](const char* k, double v, const char* comment) {
    if (science) h.set(k, v, comment);
    else h.set(k, image::HeaderValue{}, comment);
  };
  set_or_undefined("RA", p.ra_deg, "[deg] Telescope RA of the boresight");
  set_or_undefined("DEC", p.dec_deg, "[deg] Telescope Dec of the boresight");
  set_or_undefined("RASTART", p.ra_deg, "[deg] Telescope RA at the start of the observation");
  set_or_undefined("DECSTART", p.dec_deg, "[deg] Telescope Dec at the start of the observation");
  set_or_undefined("RAEND", p.ra_deg, "[deg] Telescope RA at the end of the observation");
  set_or_undefined("DECEND", p.dec_deg, "[deg] Telescope Dec at the end of the observation");
  set_or_undefined("ROTPA", std::fmod(p.rotation_deg + 90.0 + 720.0, 360.0), "[deg] Rotation angle relative to the sky");
  h.set("ROTCOORD", "sky", "Telescope Rotation Coordinates");
  set_or_undefined("HASTART", begin.hour_angle_h, "[HH:MM:SS] Telescope hour angle at start");
  set_or_undefined("ELSTART", begin.alt_deg, "[deg] Telescope elevation at start");
  set_or_undefined("AZSTART", begin.az_deg, "[deg] Telescope azimuth at start");
  set_or_undefined("AMSTART", begin.airmass, "Airmass at start");
  set_or_undefined("HAEND", finish.hour_angle_h, "[HH:MM:SS] Telescope hour angle at end");
  set_or_undefined("ELEND", finish.alt_deg, "[deg] Telescope elevation at end");
  set_or_undefined("AZEND", finish.az_deg, "[deg] Telescope azimuth at end");
  set_or_undefined("AMEND", finish.airmass, "Airmass at end");
  h.set("TRACKSYS", science ? "RADEC" : "LOCAL", "Tracking coordinate system");
  h.set("RADESYS", "ICRS", "Equatorial coordinate system");
  h.set("FOCUSZ", 0.0, "[mm] Focus Z position");
  h.set("OBJECT", e.object, "Name of the observed object");
  h.set("TESTTYPE", imgtype, "BIAS, DARK, FLAT, OBJECT");
  h.set("OBSTYPE", imgtype, "Type of observation");
  h.set("CAMCODE", header_value(ch, "CAMCODE", "XX"), "The code for the camera");
  h.set("CONTRLLR", "O", "The controller (e.g. O for OCS, C for CCS)");
  h.set("DAYOBS", std::to_string(e.day_obs), "The observation day as defined by image name");
  h.set("SEQNUM", e.seq_num, "The sequence number from the image name");
  h.set("PROGRAM", science ? "SIM" : "CALIB", "Name of the program");
  h.set("REASON", science ? "simulation" : "calibration", "Reason for observation");
  h.set("CURINDEX", 1, "Index number for snap or sequence");
  h.set("MAXINDEX", 1, "Number of images in sequence");
  h.set("TSTAND", header_value(ch, "TSTAND", camera.name()), "Test Stand");
  h.set("IMAGETAG", fmt::format("{:016x}", static_cast<std::uint64_t>(e.exposure_id) * 2654435761ULL), "DAQ Image id");
  h.set("OBSANNOT", "", "Observation annotation");
  h.set("CCD_MANU", det.physical_type, "CCD Manufacturer");
  h.set("CCD_TYPE", det.physical_type == "E2V" ? "CCD250" : "3800C", "CCD Model Number");
  h.set("CCDSLOT", header_value(det.header, "CCDSLOT", det.ccd), "The CCD Slot");
  h.set("RAFTBAY", header_value(det.header, "RAFTBAY", det.raft), "The RAFT Bay");
  h.set("PLATFORM", header_value(ch, "PLATFORM", ""), "Camera platform");
  h.set("LSST_NUM", det.serial, "LSST Assigned CCD Number");
  h.set("RAFTNAME", header_value(det.header, "RAFTNAME", det.raft_serial), "LSST Assigned Raft name");
  if (ch.count("DETECTOR_KEYWORD") || camera.name() == "TestCam") h.set("DETECTOR", det.id, "Detector number");
  if (!e.physical_filter.empty()) {
    const auto& f = camera.get_filter(e.physical_filter);
    for (const auto& [k, v] : f.header) h.set(k, v, "");
  } else {
    h.set("FILTBAND", image::HeaderValue{}, "Filter band");
    h.set("FILTER", "NONE", "Name of the filter");
  }
  h.set("EXPTIME", e.exposure_time_s, "Exposure time in seconds");
  h.set("DARKTIME", e.dark_time_s(), "Dark time in seconds");
  h.set("SHUTTIME", e.kind == ExposureKind::kBias ? 0.0 : e.exposure_time_s, "Shutter exposure time in seconds");
  h.set("AIRTEMP", 10.0, "Outside air temperature in degC");
  h.set("PRESSURE", 74000.0, "Barometric pressure in Pa");
  h.set("HUMIDITY", 30.0, "Relative humidity in percent");
  h.set("WINDSPD", 3.0, "Wind speed in m/s");
  h.set("WINDDIR", 20.0, "Wind direction in degrees");
  h.set("FILENAME", raw_file_stem(e, det) + ".fits", "Original name of the file");
  h.set("HEADVER", 2, "Version number of header");
  h.set("DETSIZE", det.detsize(), "Size of sensor");
  h.set("ORIGIN", "majordome sim", "Simulated data");
  return h;
}

image::Header raw_amplifier_header(const instrument::Detector& det, const instrument::Amplifier& amp) {
  image::Header h;
  h.set("CHANNEL", amp.hdu);
  h.set("EXTNAME", "Segment" + amp.name.substr(1));
  h.set("CCDSUM", "1 1");
  h.set("DATASEC", amp.datasec());
  h.set("DETSEC", amp.detsec());
  h.set("DETSIZE", det.detsize());
  h.set("BIASSEC", amp.biassec());
  // IRAF detector transformation: detector = DTM · raw + DTV (1-based).
  const int dtv1 = amp.raw_flip_x ? amp.bbox.max_x() + 1 + amp.raw_data_bbox.min_x() + 1
                                  : amp.bbox.min_x() - amp.raw_data_bbox.min_x();
  const int dtv2 = amp.raw_flip_y ? amp.bbox.max_y() + 1 + amp.raw_data_bbox.min_y() + 1
                                  : amp.bbox.min_y() - amp.raw_data_bbox.min_y();
  h.set("DTV1", dtv1, "detector transformation vector");
  h.set("DTV2", dtv2, "detector transformation vector");
  h.set("DTM1_1", amp.raw_flip_x ? -1.0 : 1.0, "detector transformation matrix");
  h.set("DTM2_2", amp.raw_flip_y ? -1.0 : 1.0, "detector transformation matrix");
  h.set("DTM1_2", 0.0, "detector transformation matrix");
  h.set("DTM2_1", 0.0, "detector transformation matrix");
  return h;
}

}  // namespace majordome::sim
