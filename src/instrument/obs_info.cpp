// ObservationInfo output: JSON in the shared expected.yaml conventions, a human table, and
// the values of an exposure record.
#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "majordome/core/error.hpp"
#include "majordome/instrument/observation_info.hpp"

namespace majordome::instrument {

namespace {

std::string tai_text(TaiTime t) { return t.tai_iso(6, 'T') + " TAI"; }

using Json = nlohmann::ordered_json;

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json as_json(const ObservationInfo& i) {
  Json j;
  j["_translator_name"] = i.translator;
  j["instrument"] = opt(i.instrument);
  j["telescope"] = opt(i.telescope);
  j["location_geocentric_m"] = i.location ? Json::array({i.location->x_m, i.location->y_m, i.location->z_m}) : Json(nullptr);
  j["exposure_id"] = opt(i.exposure_id);
  j["visit_id"] = opt(i.visit_id);
  j["physical_filter"] = opt(i.physical_filter);
  j["datetime_begin"] = i.datetime_begin ? Json(tai_text(*i.datetime_begin)) : Json(nullptr);
  j["datetime_end"] = i.datetime_end ? Json(tai_text(*i.datetime_end)) : Json(nullptr);
  j["exposure_time_s"] = opt(i.exposure_time_s);
  j["exposure_time_requested_s"] = opt(i.exposure_time_requested_s);
  j["dark_time_s"] = opt(i.dark_time_s);
  j["boresight_airmass"] = opt(i.boresight_airmass);
  j["boresight_rotation_angle_deg"] = opt(i.boresight_rotation_angle_deg);
  j["boresight_rotation_coord"] = opt(i.boresight_rotation_coord);
  j["detector_num"] = opt(i.detector_num);
  j["detector_name"] = opt(i.detector_name);
  j["detector_unique_name"] = opt(i.detector_unique_name);
  j["detector_serial"] = opt(i.detector_serial);
  j["detector_group"] = opt(i.detector_group);
  j["detector_exposure_id"] = opt(i.detector_exposure_id);
  j["focus_z_mm"] = opt(i.focus_z_mm);
  j["object"] = opt(i.object);
  j["temperature_degC"] = opt(i.temperature_degC);
  j["pressure_Pa"] = opt(i.pressure_Pa);
  j["relative_humidity"] = opt(i.relative_humidity);
  j["tracking_radec_deg"] =
      i.tracking_radec ? Json::array({i.tracking_radec->ra_deg, i.tracking_radec->dec_deg}) : Json(nullptr);
  j["altaz_begin_deg"] = i.altaz_begin ? Json::array({i.altaz_begin->az_deg, i.altaz_begin->alt_deg}) : Json(nullptr);
  j["science_program"] = opt(i.science_program);
  j["observation_type"] = opt(i.observation_type);
  j["observation_id"] = opt(i.observation_id);
  j["observation_reason"] = opt(i.observation_reason);
  j["exposure_group"] = opt(i.exposure_group);
  j["observing_day"] = opt(i.observing_day);
  j["observing_day_offset_s"] = opt(i.observing_day_offset_s);
  j["observation_counter"] = opt(i.observation_counter);
  j["group_counter_start"] = opt(i.group_counter_start);
  j["group_counter_end"] = opt(i.group_counter_end);
  j["has_simulated_content"] = opt(i.has_simulated_content);
  j["can_see_sky"] = opt(i.can_see_sky);
  if (!i.failures.empty()) {
    Json f = Json::object();
    for (const auto& [name, keys] : i.failures) f[name] = keys;
    j["_failures"] = f;
  }
  return j;
}

}  // namespace

std::string to_json(const ObservationInfo& info, int indent) { return as_json(info).dump(indent); }

std::vector<std::pair<std::string, std::string>> describe(const ObservationInfo& info) {
  std::vector<std::pair<std::string, std::string>> rows;
  const Json j = as_json(info);
  for (const auto& [key, value] : j.items()) {
    if (key == "_failures") continue;
    std::string text = value.is_null() ? "-" : value.is_string() ? value.get<std::string>() : value.dump();
    rows.emplace_back(key, text);
  }
  return rows;
}

ExposureRecordValues exposure_record(const ObservationInfo& info, const std::string& source) {
  std::vector<std::string> missing;
  auto need = [&](const char* name, bool present) {
    if (present) return;
    auto it = info.failures.find(name);
    if (it != info.failures.end() && !it->second.empty())
      missing.push_back(fmt::format("{} (header keywords {})", name, fmt::join(it->second, ", ")));
    else
      missing.push_back(fmt::format("{} (no value in the header)", name));
  };
  need("instrument", info.instrument.has_value());
  need("exposure_id", info.exposure_id.has_value());
  need("observation_id", info.observation_id.has_value());
  need("observing_day", info.observing_day.has_value());
  need("observation_counter", info.observation_counter.has_value());
  need("exposure_group", info.exposure_group.has_value());
  need("physical_filter", info.physical_filter.has_value());
  need("exposure_time", info.exposure_time_s.has_value());
  need("observation_type", info.observation_type.has_value());
  need("datetime_begin", info.datetime_begin.has_value());
  need("datetime_end", info.datetime_end.has_value());
  need("detector_num", info.detector_num.has_value());
  if (!missing.empty())
    throw NotFoundError(fmt::format("{}: required properties missing for an exposure record: {}",
                                    source.empty() ? std::string("header") : source, fmt::join(missing, "; ")));
  ExposureRecordValues r;
  r.instrument = *info.instrument;
  r.id = *info.exposure_id;
  r.obs_id = *info.observation_id;
  r.day_obs = *info.observing_day;
  r.seq_num = *info.observation_counter;
  r.group = *info.exposure_group;
  r.physical_filter = *info.physical_filter;
  r.exposure_time_s = *info.exposure_time_s;
  r.dark_time_s = info.dark_time_s;
  r.observation_type = *info.observation_type;
  r.observation_reason = info.observation_reason.value_or("unknown");
  r.science_program = info.science_program.value_or("unknown");
  r.target_name = info.object.value_or("");
  // A zero-length exposure (a bias) gets one nanosecond, as daf_butler pads an instantaneous
  // Timespan: an empty timespan would overlap nothing and no calibration would be found for it.
  const std::int64_t begin_ns = info.datetime_begin->ns();
  r.timespan = Timespan(begin_ns, std::max(info.datetime_end->ns(), begin_ns + 1));
  if (info.tracking_radec) r.tracking_ra_deg = info.tracking_radec->ra_deg, r.tracking_dec_deg = info.tracking_radec->dec_deg;
  r.sky_angle_deg = info.boresight_rotation_angle_deg;
  if (info.altaz_begin) r.azimuth_deg = info.altaz_begin->az_deg, r.zenith_angle_deg = 90.0 - info.altaz_begin->alt_deg;
  r.has_simulated = info.has_simulated_content.value_or(false);
  r.can_see_sky = info.can_see_sky;
  r.detector = *info.detector_num;
  return r;
}

}  // namespace majordome::instrument
