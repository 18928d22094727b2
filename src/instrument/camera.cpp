// Camera value types and transforms (the YAML loader is in camera_yaml.cpp).
#include "majordome/instrument/camera.hpp"

#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::instrument {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadPerArcsec = kPi / (180.0 * 3600.0);
constexpr double kDegPerRad = 180.0 / kPi;

std::string section(int x_first, int x_last, int y_first, int y_last) {
  return fmt::format("[{}:{},{}:{}]", x_first + 1, x_last + 1, y_first + 1, y_last + 1);
}

std::string list_detectors(const std::vector<Detector>& detectors) {
  std::string out;
  for (const auto& d : detectors) out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", d.name, d.id);
  return out;
}

}  // namespace

std::string_view purpose_name(DetectorPurpose purpose) {
  switch (purpose) {
    case DetectorPurpose::kScience: return "SCIENCE";
    case DetectorPurpose::kFocus: return "FOCUS";
    case DetectorPurpose::kGuider: return "GUIDER";
    case DetectorPurpose::kWavefront: return "WAVEFRONT";
  }
  return "?";
}

std::string_view read_corner_name(ReadCorner corner) {
  switch (corner) {
    case ReadCorner::kLowerLeft: return "LL";
    case ReadCorner::kLowerRight: return "LR";
    case ReadCorner::kUpperLeft: return "UL";
    case ReadCorner::kUpperRight: return "UR";
  }
  return "?";
}

// The raw read-out starts at raw (0, 0); the flips say where that lands once assembled.
ReadCorner Amplifier::read_corner() const {
  if (raw_flip_y) return raw_flip_x ? ReadCorner::kUpperRight : ReadCorner::kUpperLeft;
  return raw_flip_x ? ReadCorner::kLowerRight : ReadCorner::kLowerLeft;
}

image::Point2I Amplifier::raw_from_assembled(image::Point2I p) const {
  int dx = p.x - bbox.min_x();
  int dy = p.y - bbox.min_y();
  if (raw_flip_x) dx = bbox.width() - 1 - dx;
  if (raw_flip_y) dy = bbox.height() - 1 - dy;
  return {raw_data_bbox.min_x() + dx, raw_data_bbox.min_y() + dy};
}

std::string Amplifier::datasec() const {
  return section(raw_data_bbox.min_x(), raw_data_bbox.max_x(), raw_data_bbox.min_y(), raw_data_bbox.max_y());
}

std::string Amplifier::detsec() const {
  const int x0 = raw_flip_x ? bbox.max_x() : bbox.min_x();
  const int x1 = raw_flip_x ? bbox.min_x() : bbox.max_x();
  const int y0 = raw_flip_y ? bbox.max_y() : bbox.min_y();
  const int y1 = raw_flip_y ? bbox.min_y() : bbox.max_y();
  return section(x0, x1, y0, y1);
}

std::string Amplifier::biassec() const {
  const auto& b = raw_serial_overscan_bbox;
  return section(b.min_x(), b.max_x(), b.min_y(), b.max_y());
}

const Amplifier* Detector::find_amplifier(std::string_view amp_name) const {
  for (const auto& a : amplifiers)
    if (a.name == amp_name) return &a;
  return nullptr;
}

const Amplifier& Detector::get_amplifier(std::string_view amp_name) const {
  if (const auto* a = find_amplifier(amp_name)) return *a;
  std::string names;
  for (const auto& a : amplifiers) names += (names.empty() ? "" : ", ") + a.name;
  throw NotFoundError(fmt::format("detector {} has no amplifier '{}'; it has {}", name, amp_name, names));
}

std::string Detector::detsize() const { return section(0, bbox.width() - 1, 0, bbox.height() - 1); }

const Detector* Camera::find_detector(int id) const {
  for (const auto& d : detectors_)
    if (d.id == id) return &d;
  return nullptr;
}

const Detector* Camera::find_detector(std::string_view detector_name) const {
  for (const auto& d : detectors_)
    if (d.name == detector_name) return &d;
  return nullptr;
}

const Detector& Camera::get_detector(int id) const {
  if (const auto* d = find_detector(id)) return *d;
  throw NotFoundError(fmt::format("camera {} has no detector {}; known detectors: {}", name_, id,
                                  list_detectors(detectors_)));
}

const Detector& Camera::get_detector(std::string_view detector_name) const {
  if (const auto* d = find_detector(detector_name)) return *d;
  throw NotFoundError(fmt::format("camera {} has no detector '{}'; known detectors: {}", name_,
                                  detector_name, list_detectors(detectors_)));
}

const Filter* Camera::find_filter(std::string_view physical_filter) const {
  for (const auto& f : filters_)
    if (f.physical_filter == physical_filter) return &f;
  return nullptr;
}

const Filter& Camera::get_filter(std::string_view physical_filter) const {
  if (const auto* f = find_filter(physical_filter)) return *f;
  std::string names;
  for (const auto& f : filters_) names += (names.empty() ? "" : ", ") + f.physical_filter;
  throw NotFoundError(fmt::format("camera {} has no filter '{}'; known filters: {}", name_, physical_filter, names));
}

const Filter& Camera::get_filter_for_band(std::string_view band) const {
  for (const auto& f : filters_)
    if (f.band == band) return f;
  std::string names;
  for (const auto& f : filters_) names += (names.empty() ? "" : ", ") + f.band;
  throw NotFoundError(fmt::format("camera {} has no filter in band '{}'; known bands: {}", name_, band, names));
}

std::array<double, 2> Camera::pixel_to_focal_plane(const Detector& d, image::Point2D p) const {
  const double mm = d.pixel_size_um * 1e-3;
  const double dx = (p.x - 0.5 * (d.bbox.width() - 1)) * mm;
  const double dy = (p.y - 0.5 * (d.bbox.height() - 1)) * mm;
  const double c = std::cos(d.yaw_deg / kDegPerRad), s = std::sin(d.yaw_deg / kDegPerRad);
  return {d.focal_plane_mm[0] + c * dx - s * dy, d.focal_plane_mm[1] + s * dx + c * dy};
}

image::Point2D Camera::focal_plane_to_pixel(const Detector& d, std::array<double, 2> fp) const {
  const double mm = d.pixel_size_um * 1e-3;
  const double ux = fp[0] - d.focal_plane_mm[0], uy = fp[1] - d.focal_plane_mm[1];
  const double c = std::cos(d.yaw_deg / kDegPerRad), s = std::sin(d.yaw_deg / kDegPerRad);
  return {(c * ux + s * uy) / mm + 0.5 * (d.bbox.width() - 1),
          (-s * ux + c * uy) / mm + 0.5 * (d.bbox.height() - 1)};
}

namespace {
// R(r) = Σ c_i r^i and its derivative.
std::pair<double, double> radial(const std::vector<double>& c, double r) {
  double value = 0.0, slope = 0.0;
  for (std::size_t i = c.size(); i-- > 0;) {
    slope = slope * r + value;
    value = value * r + c[i];
  }
  return {value, slope};
}
}  // namespace

FieldAngle Camera::focal_plane_to_field(std::array<double, 2> fp) const {
  const double k = plate_scale_ * kRadPerArcsec;
  const double r = std::hypot(fp[0], fp[1]);
  // R(r)/r → c_1 as r → 0 (c_0 is 0 for every real camera).
  const double ratio = r > 0.0 ? radial(distortion_, r).first / r : (distortion_.size() > 1 ? distortion_[1] : 1.0);
  return {k * ratio * fp[0], k * ratio * fp[1]};
}

std::array<double, 2> Camera::field_to_focal_plane(FieldAngle f) const {
  const double k = plate_scale_ * kRadPerArcsec;
  const double target = std::hypot(f.x, f.y) / k;
  if (target == 0.0) return {0.0, 0.0};
  const double c1 = distortion_.size() > 1 && distortion_[1] != 0.0 ? distortion_[1] : 1.0;
  double r = target / c1;
  for (int i = 0; i < 50; ++i) {
    const auto [value, slope] = radial(distortion_, r);
    const double step = (value - target) / (slope != 0.0 ? slope : c1);
    r -= step;
    if (std::abs(step) < 1e-13 * (1.0 + r)) break;
  }
  const double scale = r / (target * k);
  return {f.x * scale, f.y * scale};
}

FieldAngle Camera::pixel_to_field(const Detector& d, image::Point2D p) const {
  return focal_plane_to_field(pixel_to_focal_plane(d, p));
}

image::Point2D Camera::field_to_pixel(const Detector& d, FieldAngle f) const {
  return focal_plane_to_pixel(d, field_to_focal_plane(f));
}

std::array<FieldAngle, 4> Camera::detector_corners(const Detector& d) const {
  const double x0 = -0.5, y0 = -0.5, x1 = d.bbox.width() - 0.5, y1 = d.bbox.height() - 0.5;
  return {pixel_to_field(d, {x0, y0}), pixel_to_field(d, {x1, y0}), pixel_to_field(d, {x1, y1}),
          pixel_to_field(d, {x0, y1})};
}

Camera Camera::from_parts(Parts parts) {
  const std::string where = parts.source.empty() ? parts.name : parts.source.string();
  auto bad = [&](const std::string& key, const std::string& why) {
    return InvalidConfigError(fmt::format("camera description {}: {}: {}", where, key, why));
  };
  if (parts.name.empty()) throw bad("instrument", "must be a non-empty name");
  if (!(parts.plate_scale_arcsec_per_mm > 0.0)) throw bad("plate_scale", "must be > 0 (arcsec per mm)");
  if (parts.field_distortion.size() < 2 || parts.field_distortion[1] == 0.0)
    throw bad("field_distortion", "needs at least c0 and c1, with c1 != 0 (e.g. [0.0, 1.0])");
  if (parts.detectors.empty()) throw bad("detectors", "at least one detector is required");
  std::set<int> ids;
  std::set<std::string> names;
  for (std::size_t i = 0; i < parts.detectors.size(); ++i) {
    const auto& d = parts.detectors[i];
    const std::string key = fmt::format("detectors[{}] ({})", i, d.name);
    if (!ids.insert(d.id).second) throw bad(key, fmt::format("duplicate detector id {}", d.id));
    if (d.name.empty() || !names.insert(d.name).second) throw bad(key, "missing or duplicate detector name");
    if (d.bbox.empty() || d.bbox.min() != image::Point2I{0, 0}) throw bad(key + ".bbox", "must start at (0, 0) and not be empty");
    if (!(d.pixel_size_um > 0.0)) throw bad(key + ".pixel_size_um", "must be > 0");
    if (d.amplifiers.empty()) throw bad(key + ".amplifiers", "at least one amplifier is required");
    std::int64_t area = 0;
    std::set<std::string> amp_names;
    std::set<int> hdus;
    for (std::size_t j = 0; j < d.amplifiers.size(); ++j) {
      const auto& a = d.amplifiers[j];
      const std::string akey = fmt::format("{}.amplifiers[{}] ({})", key, j, a.name);
      if (!amp_names.insert(a.name).second) throw bad(akey, "duplicate amplifier name");
      if (a.hdu < 1 || !hdus.insert(a.hdu).second) throw bad(akey + ".hdu", "must be a distinct HDU index >= 1");
      if (a.bbox.empty() || !d.bbox.contains(a.bbox)) throw bad(akey + ".bbox", "must be a non-empty box inside the detector bbox " + d.bbox.str());
      if (a.raw_bbox.min() != image::Point2I{0, 0}) throw bad(akey + ".raw_bbox", "must start at (0, 0)");
      for (const auto& [box, label] : {std::pair{&a.raw_data_bbox, "raw_data"},
                                       std::pair{&a.raw_serial_prescan_bbox, "raw_serial_prescan"},
                                       std::pair{&a.raw_serial_overscan_bbox, "raw_serial_overscan"},
                                       std::pair{&a.raw_parallel_overscan_bbox, "raw_parallel_overscan"}}) {
        if (!a.raw_bbox.contains(*box)) throw bad(akey + "." + label, "must lie inside raw_bbox " + a.raw_bbox.str());
      }
      if (a.raw_data_bbox.dimensions() != a.bbox.dimensions())
        throw bad(akey + ".raw_data", "must have the dimensions of bbox " + a.bbox.str());
      if (!(a.gain > 0.0)) throw bad(akey + ".gain", "must be > 0 (electrons per ADU)");
      if (a.read_noise < 0.0) throw bad(akey + ".read_noise", "must be >= 0");
      if (!(a.saturation > 0.0)) throw bad(akey + ".saturation", "must be > 0 (ADU)");
      area += a.bbox.area();
      for (std::size_t k = 0; k < j; ++k) {
        if (d.amplifiers[k].bbox.overlaps(a.bbox))
          throw bad(akey + ".bbox", "overlaps amplifier " + d.amplifiers[k].name);
      }
    }
    if (area != d.bbox.area()) throw bad(key + ".amplifiers", "amplifier boxes do not cover the detector bbox");
    if (!d.crosstalk.empty()) {
      if (d.crosstalk.size() != d.amplifiers.size()) throw bad(key + ".crosstalk", "must have one row per amplifier");
      for (const auto& row : d.crosstalk)
        if (row.size() != d.amplifiers.size()) throw bad(key + ".crosstalk", "must be square (one column per amplifier)");
    }
  }
  std::set<std::string> filter_names;
  for (const auto& f : parts.filters) {
    if (f.physical_filter.empty() || !filter_names.insert(f.physical_filter).second)
      throw bad("filters", "missing or duplicate physical_filter '" + f.physical_filter + "'");
    if (f.band.empty()) throw bad("filters (" + f.physical_filter + ")", "band is required");
  }

  Camera c;
  c.name_ = std::move(parts.name);
  c.telescope_ = std::move(parts.telescope);
  c.source_ = std::move(parts.source);
  c.plate_scale_ = parts.plate_scale_arcsec_per_mm;
  c.distortion_ = std::move(parts.field_distortion);
  c.parity_ = parts.focal_plane_parity;
  c.site_ = parts.site;
  c.header_ = std::move(parts.header);
  c.detectors_ = std::move(parts.detectors);
  c.filters_ = std::move(parts.filters);
  return c;
}

std::array<double, 2> field_to_sky(const Camera& camera, const Pointing& p, FieldAngle f) {
  const double x = camera.focal_plane_parity() ? -f.x : f.x;
  const double phi = p.rotation_deg / kDegPerRad;
  const double c = std::cos(phi), s = std::sin(phi);
  const double xi = -x * c + f.y * s;
  const double eta = x * s + f.y * c;
  const double a0 = p.ra_deg / kDegPerRad, d0 = p.dec_deg / kDegPerRad;
  const double denom = std::cos(d0) - eta * std::sin(d0);
  double ra = a0 + std::atan2(xi, denom);
  const double dec = std::atan2(std::sin(d0) + eta * std::cos(d0), std::hypot(xi, denom));
  ra = std::fmod(ra * kDegPerRad, 360.0);
  if (ra < 0.0) ra += 360.0;
  return {ra, dec * kDegPerRad};
}

std::optional<FieldAngle> sky_to_field(const Camera& camera, const Pointing& p, double ra_deg, double dec_deg) {
  const double a = ra_deg / kDegPerRad, d = dec_deg / kDegPerRad;
  const double a0 = p.ra_deg / kDegPerRad, d0 = p.dec_deg / kDegPerRad;
  const double cos_c = std::sin(d) * std::sin(d0) + std::cos(d) * std::cos(d0) * std::cos(a - a0);
  if (cos_c <= 0.0) return std::nullopt;
  const double xi = std::cos(d) * std::sin(a - a0) / cos_c;
  const double eta = (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(a - a0)) / cos_c;
  const double phi = p.rotation_deg / kDegPerRad;
  const double c = std::cos(phi), s = std::sin(phi);
  const double x = -xi * c + eta * s;  // the rotation-with-parity matrix is its own inverse
  const double y = xi * s + eta * c;
  return FieldAngle{camera.focal_plane_parity() ? -x : x, y};
}

}  // namespace majordome::instrument
