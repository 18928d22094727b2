#include "majordome/sim/exposure.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "majordome/core/error.hpp"
#include "majordome/sim/random.hpp"

namespace majordome::sim {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRad = kPi / 180.0;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;

TaiTime plus_seconds(TaiTime t, double seconds) {
  return TaiTime(t.ns() + static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

// Local sidereal time (hours) from the IAU 1982 GMST polynomial (UT1 ≈ TAI − 37 s: the
// difference is far below what the header values need).
double local_sidereal_hours(double longitude_deg, TaiTime t) {
  const double jd = t.mjd_tai() + 2400000.5 - 37.0 / 86400.0;
  const double d = jd - 2451545.0;
  double gmst = std::fmod(18.697374558 + 24.06570982441908 * d, 24.0);
  double lst = std::fmod(gmst + longitude_deg / 15.0, 24.0);
  if (lst < 0.0) lst += 24.0;
  return lst;
}

int day_obs_of(TaiTime t) {
  const std::string iso = TaiTime(t.ns() - 12 * 3600 * kNsPerSecond).tai_iso(0, 'T');
  return std::stoi(iso.substr(0, 4)) * 10000 + std::stoi(iso.substr(5, 2)) * 100 + std::stoi(iso.substr(8, 2));
}

}  // namespace

std::string_view image_type(ExposureKind kind) {
  switch (kind) {
    case ExposureKind::kScience: return "OBJECT";
    case ExposureKind::kBias: return "BIAS";
    case ExposureKind::kDark: return "DARK";
    case ExposureKind::kFlat: return "FLAT";
  }
  return "?";
}

double ExposureSpec::dark_time_s() const { return kind == ExposureKind::kBias ? 0.0 : exposure_time_s + 1.0; }

TaiTime ExposureSpec::end() const { return plus_seconds(start, exposure_time_s); }

void assign_ids(const instrument::Camera& camera, std::vector<ExposureSpec>& exposures, int first_seq) {
  std::stable_sort(exposures.begin(), exposures.end(),
                   [](const ExposureSpec& a, const ExposureSpec& b) { return a.start < b.start; });
  const auto code = camera.header().count("CAMCODE") ? camera.header().at("CAMCODE") : std::string("XX");
  std::map<int, int> next;
  for (auto& e : exposures) {
    e.day_obs = day_obs_of(e.start);
    auto [it, fresh] = next.try_emplace(e.day_obs, first_seq);
    e.seq_num = it->second++;
    if (e.seq_num > 99999) throw InvalidArgumentError(fmt::format("more than 99999 exposures on day_obs {}", e.day_obs));
    e.exposure_id = static_cast<std::int64_t>(e.day_obs) * 100000 + e.seq_num;
    e.obs_id = fmt::format("{}_O_{}_{:06d}", code, e.day_obs, e.seq_num);
  }
}

double field_radius(const instrument::Camera& camera) {
  double r = 0.0;
  for (const auto& d : camera.detectors())
    for (const auto& c : camera.detector_corners(d)) r = std::max(r, std::hypot(c.x, c.y));
  return r;
}

Horizontal horizontal(const instrument::Site& site, double ra_deg, double dec_deg, TaiTime time) {
  Horizontal h;
  double ha = local_sidereal_hours(site.longitude_deg, time) - ra_deg / 15.0;
  ha = std::fmod(ha + 36.0, 24.0) - 12.0;
  h.hour_angle_h = ha;
  const double H = ha * 15.0 * kRad, dec = dec_deg * kRad, lat = site.latitude_deg * kRad;
  const double sin_alt = std::sin(lat) * std::sin(dec) + std::cos(lat) * std::cos(dec) * std::cos(H);
  const double alt = std::asin(std::clamp(sin_alt, -1.0, 1.0));
  double az = std::atan2(-std::cos(dec) * std::sin(H), std::sin(dec) * std::cos(lat) - std::cos(dec) * std::sin(lat) * std::cos(H));
  if (az < 0.0) az += 2.0 * kPi;
  h.alt_deg = alt / kRad;
  h.az_deg = az / kRad;
  // Young (1994) airmass; finite at the horizon.
  const double z = kPi / 2.0 - alt;
  const double c = std::cos(z);
  h.airmass = alt > 0.0 ? (1.002432 * c * c + 0.148386 * c + 0.0096467) /
                              (c * c * c + 0.149864 * c * c + 0.0102963 * c + 0.000303978)
                        : 40.0;
  return h;
}

std::vector<ExposureSpec> plan_exposures(const instrument::Camera& camera, const PlanOptions& o) {
  if (o.exposures < 0) throw InvalidArgumentError("the number of exposures must be >= 0");
  if (o.bands.empty()) throw InvalidArgumentError("at least one band is needed (e.g. --bands g,r,i)");
  if (!(o.exposure_time_s > 0.0)) throw InvalidArgumentError("the exposure time must be > 0 s");
  std::vector<const instrument::Filter*> filters;
  for (const auto& b : o.bands) filters.push_back(&camera.get_filter_for_band(b));
  const double ra0 = o.ra_deg.value_or(local_sidereal_hours(camera.site().longitude_deg, o.start) * 15.0);
  const double dec0 = o.dec_deg.value_or(camera.site().latitude_deg);
  const double dither = o.dither_deg >= 0.0 ? o.dither_deg : 0.2 * field_radius(camera) / kRad;
  Rng rng(o.seed, {key(Stream::kPlan)});
  std::vector<ExposureSpec> out;
  TaiTime t = o.start;
  for (int i = 0; i < o.exposures; ++i) {
    ExposureSpec e;
    e.kind = ExposureKind::kScience;
    const std::size_t block = static_cast<std::size_t>(i) * filters.size() / static_cast<std::size_t>(o.exposures);
    e.physical_filter = filters[block]->physical_filter;
    // Uniform in a disc of radius `dither` around the field centre.
    const double r = dither * std::sqrt(rng.uniform()), phi = rng.uniform(0.0, 2.0 * kPi);
    e.pointing.dec_deg = std::clamp(dec0 + r * std::sin(phi), -89.9, 89.9);
    e.pointing.ra_deg = std::fmod(ra0 + r * std::cos(phi) / std::cos(e.pointing.dec_deg * kRad) + 360.0, 360.0);
    e.pointing.rotation_deg = rng.uniform(-90.0, 90.0);
    e.seeing_arcsec = rng.uniform(0.6, 1.1);
    e.exposure_time_s = o.exposure_time_s;
    e.start = t;
    out.push_back(e);
    t = plus_seconds(t, e.dark_time_s() + 3.0);
  }
  return out;
}

std::vector<ExposureSpec> read_pointings(const instrument::Camera& camera, const std::filesystem::path& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw NotFoundError(fmt::format("pointings file {} cannot be read", path.string()));
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("pointings file {} is not valid YAML: {}", path.string(), e.what()));
  }
  const auto list = root["pointings"];
  if (!list || !list.IsSequence())
    throw InvalidConfigError(fmt::format("pointings file {}: expected a top-level key 'pointings' holding a list of "
                                         "{{ra, dec, rotation, band, time, exptime}}", path.string()));
  std::vector<ExposureSpec> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto n = list[i];
    auto fail = [&](const std::string& what) {
      return InvalidConfigError(fmt::format("pointings file {}: entry {}: {}", path.string(), i, what));
    };
    auto number = [&](const char* key, std::optional<double> fallback) -> double {
      const auto v = n[key];
      if (!v || v.IsNull()) {
        if (fallback) return *fallback;
        throw fail(fmt::format("'{}' is required", key));
      }
      try {
        return v.as<double>();
      } catch (const YAML::Exception&) {
        throw fail(fmt::format("'{}' must be a number", key));
      }
    };
    ExposureSpec e;
    e.pointing.ra_deg = number("ra", std::nullopt);
    e.pointing.dec_deg = number("dec", std::nullopt);
    if (e.pointing.dec_deg < -90.0 || e.pointing.dec_deg > 90.0) throw fail("'dec' must be within [-90, 90]");
    e.pointing.rotation_deg = number("rotation", 0.0);
    e.exposure_time_s = number("exptime", 30.0);
    if (!(e.exposure_time_s > 0.0)) throw fail("'exptime' must be > 0");
    e.seeing_arcsec = number("seeing", 0.0);
    try {
      if (n["physical_filter"]) {
        e.physical_filter = camera.get_filter(n["physical_filter"].as<std::string>()).physical_filter;
      } else if (n["band"]) {
        e.physical_filter = camera.get_filter_for_band(n["band"].as<std::string>()).physical_filter;
      } else {
        throw fail("'band' or 'physical_filter' is required");
      }
    } catch (const NotFoundError& err) {
      throw fail(err.what());
    }
    const auto time = n["time"];
    if (!time) throw fail("'time' is required (TAI ISO date-time or MJD)");
    try {
      e.start = TaiTime::from_mjd_tai(time.as<double>());
    } catch (const YAML::Exception&) {
      const auto parsed = TaiTime::parse_tai_iso(time.as<std::string>());
      if (!parsed) throw fail(fmt::format("'time' {} is neither an ISO date-time nor an MJD", time.as<std::string>()));
      e.start = *parsed;
    }
    if (n["object"]) e.object = n["object"].as<std::string>();
    out.push_back(e);
  }
  return out;
}

std::vector<ExposureSpec> calibration_exposures(const instrument::Camera& camera, const std::vector<std::string>& bands,
                                                TaiTime before, int n_each) {
  std::vector<ExposureSpec> out;
  auto add = [&](ExposureKind kind, const std::string& filter, double exptime) {
    for (int i = 0; i < n_each; ++i) {
      ExposureSpec e;
      e.kind = kind;
      e.physical_filter = filter;
      e.exposure_time_s = exptime;
      e.object = kind == ExposureKind::kFlat ? "FLAT" : std::string(image_type(kind));
      out.push_back(e);
    }
  };
  add(ExposureKind::kBias, "", 0.0);
  add(ExposureKind::kDark, "", 30.0);
  for (const auto& b : bands) add(ExposureKind::kFlat, camera.get_filter_for_band(b).physical_filter, 10.0);
  // Taken back to back, ending 30 minutes before the first science exposure.
  double total = 0.0;
  for (const auto& e : out) total += e.dark_time_s() + 3.0;
  TaiTime t = plus_seconds(before, -total - 1800.0);
  for (auto& e : out) {
    e.start = t;
    t = plus_seconds(t, e.dark_time_s() + 3.0);
  }
  return out;
}

}  // namespace majordome::sim
