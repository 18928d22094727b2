// ObservationInfo: the standardized metadata of one raw exposure (one detector), as
// translated from its FITS header (the role of astro_metadata_translator's ObservationInfo).
//
// Every property is optional: "no value" means the header does not give it (or the
// translator defines it as undefined for this kind of observation). Units are in the
// field names or types: angles in degrees, times as TAI, pressure in Pa, temperature in
// degrees Celsius, focus in mm. Value type; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "majordome/core/time.hpp"

namespace majordome::instrument {

struct SkyPosition {
  double ra_deg = 0.0;   // ICRS
  double dec_deg = 0.0;
  friend bool operator==(const SkyPosition&, const SkyPosition&) = default;
};

struct AltAz {
  double az_deg = 0.0;   // north through east
  double alt_deg = 0.0;
  friend bool operator==(const AltAz&, const AltAz&) = default;
};

// Geocentric (ITRS) observatory position in metres.
struct Location {
  double x_m = 0.0, y_m = 0.0, z_m = 0.0;
  friend bool operator==(const Location&, const Location&) = default;
};

struct ObservationInfo {
  std::string translator;  // registered name of the translator that produced it ("LSSTCam")

  std::optional<std::string> instrument;
  std::optional<std::string> telescope;
  std::optional<Location> location;
  std::optional<std::int64_t> exposure_id;
  std::optional<std::int64_t> visit_id;
  std::optional<std::string> physical_filter;
  std::optional<TaiTime> datetime_begin;
  std::optional<TaiTime> datetime_end;
  std::optional<double> exposure_time_s;
  std::optional<double> exposure_time_requested_s;
  std::optional<double> dark_time_s;
  std::optional<double> boresight_airmass;
  std::optional<double> boresight_rotation_angle_deg;
  std::optional<std::string> boresight_rotation_coord;  // "sky", "unknown"
  std::optional<int> detector_num;
  std::optional<std::string> detector_name;
  std::optional<std::string> detector_unique_name;
  std::optional<std::string> detector_serial;
  std::optional<std::string> detector_group;
  std::optional<std::int64_t> detector_exposure_id;
  std::optional<double> focus_z_mm;
  std::optional<std::string> object;
  std::optional<double> temperature_degC;
  std::optional<double> pressure_Pa;
  std::optional<double> relative_humidity;  // percent
  std::optional<SkyPosition> tracking_radec;
  std::optional<AltAz> altaz_begin;
  std::optional<std::string> science_program;
  std::optional<std::string> observation_type;    // "science", "bias", "flat", ...
  std::optional<std::string> observation_id;
  std::optional<std::string> observation_reason;
  std::optional<std::string> exposure_group;
  std::optional<int> observing_day;               // YYYYMMDD
  std::optional<double> observing_day_offset_s;
  std::optional<std::int64_t> observation_counter;
  std::optional<std::int64_t> group_counter_start;
  std::optional<std::int64_t> group_counter_end;
  std::optional<bool> has_simulated_content;
  std::optional<bool> can_see_sky;

  // Properties that could not be translated (lenient mode), with the header keywords
  // whose absence or bad value caused it: property name -> keywords.
  std::map<std::string, std::vector<std::string>> failures;

  friend bool operator==(const ObservationInfo&, const ObservationInfo&) = default;
};

// The values the raw ingest records for an exposure (Rubin's `exposure` dimension record).
struct ExposureRecordValues {
  std::string instrument;
  std::int64_t id = 0;
  std::string obs_id;
  int day_obs = 0;
  std::int64_t seq_num = 0;
  std::string group;
  std::string physical_filter;
  double exposure_time_s = 0.0;
  std::optional<double> dark_time_s;
  std::string observation_type;
  std::string observation_reason;
  std::string science_program;
  std::string target_name;
  Timespan timespan;
  std::optional<double> tracking_ra_deg;
  std::optional<double> tracking_dec_deg;
  std::optional<double> sky_angle_deg;
  std::optional<double> azimuth_deg;
  std::optional<double> zenith_angle_deg;
  bool has_simulated = false;
  std::optional<bool> can_see_sky;
  int detector = 0;
};

// The exposure record values. Throws NotFoundError ("required properties missing") naming
// each missing property and the header keywords it comes from (`source` names the file).
ExposureRecordValues exposure_record(const ObservationInfo& info, const std::string& source = {});

// Property name -> value in the conventions of the shared expected.yaml: plain names for
// plain values, `<name>_<unit>` for quantities (exposure_time_s, pressure_Pa,
// temperature_degC, focus_z_mm, boresight_rotation_angle_deg, ...), times as TAI ISO
// strings, positions as [ra, dec] / [az, alt] / [x, y, z]. Every property is present;
// absent values are JSON null. Returned as JSON text (one object).
std::string to_json(const ObservationInfo& info, int indent = 2);

// (name, value text) pairs for a human table; absent values shown as "-".
std::vector<std::pair<std::string, std::string>> describe(const ObservationInfo& info);

}  // namespace majordome::instrument
