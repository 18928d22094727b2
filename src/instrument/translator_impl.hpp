// Private: the translator base class and helpers shared by the instrument translators.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/core/time.hpp"
#include "majordome/image/header.hpp"
#include "majordome/instrument/observation_info.hpp"

namespace majordome::instrument::detail {

// A property cannot be translated because these keywords are missing or unusable
// (astro_metadata_translator raises KeyError there).
struct MissingKeys : std::runtime_error {
  MissingKeys(std::vector<std::string> k, const std::string& why)
      : std::runtime_error(why), keys(std::move(k)) {}
  std::vector<std::string> keys;
};


// Geodetic (WGS84) → geocentric.
Location geodetic(double lon_deg, double lat_deg, double height_m);
// Lowercase copy.
std::string lower(std::string_view s);
std::string upper(std::string_view s);
std::string strip(std::string_view s);
// TAI time minus `offset_s`, as YYYYMMDD.
int tai_day(TaiTime t, double offset_s = 0.0);
// "12:34:56.7" or "-12:34:56.7" or a plain number → degrees (hours × 15 when `hours`).
double sexagesimal(const std::string& text, bool hours);
// ICRS → observed az/alt at `t` and `loc` (no refraction).
AltAz radec_to_altaz(const SkyPosition& radec, TaiTime t, const Location& loc);
std::string blake2b_hex(std::string_view data);  // 64-byte digest, lowercase hex

// One translation of one header. Subclasses override the to_* methods they define;
// a method throws MissingKeys when its keywords are missing. Methods may call each other.
class Translator {
 public:
  explicit Translator(const image::Header& header) : h_(header) {}
  virtual ~Translator() = default;

  virtual std::optional<std::string> instrument() const;
  virtual std::optional<std::string> telescope() const;
  virtual std::optional<Location> location() const;
  virtual std::optional<TaiTime> datetime_begin() const;
  virtual std::optional<TaiTime> datetime_end() const;
  virtual std::optional<double> exposure_time() const = 0;
  virtual std::optional<double> exposure_time_requested() const { return exposure_time(); }
  virtual std::optional<double> dark_time() const = 0;
  virtual std::optional<std::int64_t> exposure_id() const = 0;
  virtual std::optional<std::int64_t> visit_id() const { return exposure_id(); }
  virtual std::optional<std::string> physical_filter() const = 0;
  virtual std::optional<std::string> observation_type() const = 0;
  virtual std::optional<std::string> observation_reason() const;
  virtual std::optional<std::string> observation_id() const = 0;
  virtual std::optional<std::string> science_program() const = 0;
  virtual std::optional<std::string> object() const = 0;
  virtual std::optional<std::string> exposure_group() const;
  virtual std::optional<double> observing_day_offset() const { return std::nullopt; }
  virtual std::optional<int> observing_day() const;
  virtual std::optional<std::int64_t> observation_counter() const { return 0; }
  virtual std::optional<std::int64_t> group_counter_start() const { return observation_counter(); }
  virtual std::optional<std::int64_t> group_counter_end() const { return observation_counter(); }
  virtual std::optional<int> detector_num() const = 0;
  virtual std::optional<std::string> detector_name() const = 0;
  virtual std::optional<std::string> detector_group() const = 0;
  virtual std::optional<std::string> detector_unique_name() const;
  virtual std::optional<std::string> detector_serial() const = 0;
  virtual std::optional<std::int64_t> detector_exposure_id() const = 0;
  virtual std::optional<double> boresight_airmass() const = 0;
  virtual std::optional<double> boresight_rotation_angle() const = 0;
  virtual std::optional<std::string> boresight_rotation_coord() const = 0;
  virtual std::optional<SkyPosition> tracking_radec() const = 0;
  virtual std::optional<AltAz> altaz_begin() const = 0;
  virtual std::optional<double> temperature() const = 0;  // degC
  virtual std::optional<double> pressure() const = 0;     // Pa
  virtual std::optional<double> relative_humidity() const = 0;
  virtual std::optional<bool> has_simulated_content() const { return false; }
  virtual std::optional<bool> can_see_sky() const;
  virtual std::optional<double> focus_z() const { return 0.0; }  // mm

 protected:
  // Observation types that can / cannot see the sky (base heuristic of can_see_sky).
  virtual bool is_sky_type(const std::string& t) const { return t == "science" || t == "object"; }
  virtual bool is_non_sky_type(const std::string& t) const { return t == "bias" || t == "dark"; }

  const image::Header& h_;

  // Present with a value (not null/undefined).
  bool ok(std::string_view key) const;
  bool all_ok(std::initializer_list<std::string_view> keys) const;
  const image::HeaderValue& value(std::string_view key) const;  // REQUIRES ok(key)
  // Typed values; throw MissingKeys when the keyword is missing or not convertible.
  std::string str(std::string_view key) const;
  double num(std::string_view key) const;
  std::int64_t integer(std::string_view key) const;
  bool truthy(std::string_view key) const;
  std::optional<std::string> opt_str(std::string_view key) const {
    return ok(key) ? std::optional(str(key)) : std::nullopt;
  }
  std::optional<double> opt_num(std::string_view key) const {
    return ok(key) ? std::optional(num(key)) : std::nullopt;
  }
  // The first of `keys` that is defined, else nullopt.
  std::optional<std::string> first_str(std::initializer_list<std::string_view> keys) const;
  std::optional<double> first_num(std::initializer_list<std::string_view> keys) const;
  [[noreturn]] void missing(std::vector<std::string> keys, const std::string& why) const;

  // FITS ISO date in the TIMESYS scale (default UTC) or `scale` ("tai"/"utc").
  TaiTime fits_date(const std::string& text, std::string_view scale) const;
  std::optional<TaiTime> fits_date_key(std::string_view date_key, std::string_view mjd_key,
                                       std::optional<std::string_view> scale = {}) const;
  // astro_metadata_translator's tracking_from_degree_headers / altaz_from_degree_headers.
  std::optional<SkyPosition> tracking_from(std::initializer_list<std::string_view> radecsys,
                                           std::vector<std::pair<std::string, std::string>> pairs,
                                           bool ra_in_hours = false) const;
  std::optional<AltAz> altaz_from(std::vector<std::pair<std::string, std::string>> pairs,
                                  bool alt_is_zenith_distance = false,
                                  double min_alt = 0.0) const;
  std::string obs_type_or_empty() const;
};

struct Registration {
  std::string name;
  std::function<bool(const image::Header&)> can_translate;
  std::function<std::unique_ptr<Translator>(const image::Header&)> make;
  // Built-in header fix-up; returns true if the header changed. May be empty.
  std::function<bool(image::Header&)> fix;
  // Subdirectory of data/instruments/corrections/ holding this translator's corrections.
  std::string corrections_dir;
  bool auto_detect = true;
};

// The factory of a registration: builds translator T over a header.
template <typename T>
std::function<std::unique_ptr<Translator>(const image::Header&)> maker() {
  return [](const image::Header& h) { return std::make_unique<T>(h); };
}

// The registrations of each family, in detection order.
std::vector<Registration> lsst_translators();
std::vector<Registration> teststand_translators();
std::vector<Registration> other_translators();

// Value helpers for fix-ups.
std::optional<std::string> header_str(const image::Header& h, std::string_view key);
std::optional<double> header_num(const image::Header& h, std::string_view key);

}  // namespace majordome::instrument::detail
