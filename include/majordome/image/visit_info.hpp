// VisitInfo: when, how long and where the telescope looked for one exposure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "majordome/core/time.hpp"

namespace majordome::image {

// Every field is optional: unknown values are absent, not NaN. Value type.
struct VisitInfo {
  std::optional<std::int64_t> id;             // exposure (or visit) id
  std::optional<double> exposure_time_s;
  std::optional<double> dark_time_s;
  std::optional<TaiTime> date;                // middle of the exposure, TAI
  std::optional<double> boresight_ra_deg;
  std::optional<double> boresight_dec_deg;
  std::optional<double> boresight_rotation_deg;  // sky position angle of the focal plane
  std::optional<double> boresight_airmass;
  std::optional<double> boresight_az_deg;
  std::optional<double> boresight_alt_deg;
  std::string instrument;
  std::string observation_type;               // "science", "bias", "flat", …

  friend bool operator==(const VisitInfo&, const VisitInfo&) = default;
};

}  // namespace majordome::image
