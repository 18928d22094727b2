#include "majordome/instrument/visits.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/core/rubin_config.hpp"
#include "majordome/instrument/ingest.hpp"
#include "majordome/instrument/register.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::instrument {

namespace {

using dimensions::DimensionRecord;
using dimensions::FieldValue;

template <typename T>
std::optional<T> field(const DimensionRecord& r, std::string_view name) {
  const auto& v = r.get(name);
  if (const auto* p = std::get_if<T>(&v)) return *p;
  return std::nullopt;
}

// One visit to write: its exposures (sorted by id) and the detectors that get regions.
struct VisitPlan {
  std::int64_t id = 0;
  std::string name;
  std::vector<const DimensionRecord*> exposures;
  std::set<std::int64_t> detectors;
  std::set<int> systems;
};

constexpr int kOneToOne = 0, kByGroupMetadata = 1, kBySeqStartEnd = 2;

}  // namespace

std::string_view visit_grouping_name(VisitGrouping grouping) {
  switch (grouping) {
    case VisitGrouping::kOneToOne: return "one-to-one";
    case VisitGrouping::kByGroupMetadata: return "by-group-metadata";
    case VisitGrouping::kOneToOneAndByCounter: return "one-to-one-and-by-counter";
  }
  return "?";
}

std::string_view visit_system_name(int id) {
  switch (id) {
    case kOneToOne: return "one-to-one";
    case kByGroupMetadata: return "by-group-metadata";
    case kBySeqStartEnd: return "by-seq-start-end";
  }
  throw InternalError(fmt::format("no visit system {}", id));
}

VisitGrouping parse_visit_grouping(std::string_view name) {
  for (auto g : {VisitGrouping::kOneToOne, VisitGrouping::kByGroupMetadata, VisitGrouping::kOneToOneAndByCounter})
    if (name == visit_grouping_name(g)) return g;
  throw InvalidConfigError(fmt::format(
      "unknown visit grouping '{}'; accepted: one-to-one, by-group-metadata, one-to-one-and-by-counter", name));
}

namespace {

// One define-visits setting; dictionary keys of a field (computeVisitRegions["single-raw-wcs"])
// are ignored: there is one region computation.
void apply_define_visits_setting(DefineVisitsOptions& options, const ConfigStatement& st) {
  std::string key;
  for (const auto& part : split_config_field(st.field, st.where))
    if (!part.starts_with("[")) key += (key.empty() ? "" : ".") + part;
  const std::string value = unquote_python(st.value.value_or(""));
  if (key == "groupExposures.name" && st.value) {
    try {
      options.grouping = parse_visit_grouping(value);
    } catch (const InvalidConfigError& e) {
      throw InvalidConfigError(fmt::format("{}: {}", st.where, e.what()));
    }
  } else if (key == "computeVisitRegions.padding" && st.value) {
    try {
      std::size_t used = 0;
      options.padding_pixels = std::stoi(value, &used);
      if (used != value.size() || options.padding_pixels < 0) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      throw InvalidConfigError(fmt::format("{}: padding must be a non-negative integer number of pixels, got '{}'",
                                           st.where, value));
    }
  } else {
    throw InvalidConfigError(fmt::format("{}: unsupported define-visits config key '{}'; supported: "
                                         "groupExposures.name (one-to-one, by-group-metadata, "
                                         "one-to-one-and-by-counter), computeVisitRegions.padding",
                                         st.where, st.field));
  }
}

}  // namespace

void apply_define_visits_config(DefineVisitsOptions& options, const std::string& text, const std::string& source) {
  for (const auto& st : parse_config_py(text, source)) apply_define_visits_setting(options, st);
}

void apply_define_visits_config_file(DefineVisitsOptions& options, const std::filesystem::path& path) {
  for (const auto& st : read_config_py(path)) apply_define_visits_setting(options, st);
}

void apply_define_visits_override(DefineVisitsOptions& options, const std::string& text) {
  apply_define_visits_setting(options, parse_config_override(text, fmt::format("-c {}", text)));
}

sphere::ConvexPolygon detector_sky_polygon(const Camera& camera, const Detector& detector, const Pointing& pointing,
                                           int padding_pixels) {
  const double pad = padding_pixels;
  const double x0 = -0.5 - pad, y0 = -0.5 - pad;
  const double x1 = detector.bbox.width() - 0.5 + pad, y1 = detector.bbox.height() - 0.5 + pad;
  std::vector<sphere::UnitVector3d> points;
  for (const auto& [x, y] : {std::pair{x0, y0}, std::pair{x1, y0}, std::pair{x1, y1}, std::pair{x0, y1}}) {
    const auto sky = field_to_sky(camera, pointing, camera.pixel_to_field(detector, {x, y}));
    points.emplace_back(sphere::LonLat::from_degrees(sky[0], sky[1]));
  }
  return sphere::ConvexPolygon::convex_hull(points);
}

DefineVisitsResult define_visits(registry::Registry& reg, std::string_view instrument_arg,
                                 const DefineVisitsOptions& options) {
  DefineVisitsResult result;
  const std::string instrument = registered_instrument_name(reg, instrument_arg);
  result.instrument = instrument;
  const Camera camera = load_instrument_camera(get_instrument(instrument));
  const auto& universe = reg.universe();

  // As Rubin: --collections names where the camera is looked up; majordome's camera is the
  // instrument's own description, so they are only checked to exist (a typo is an error).
  for (const auto& c : options.collections) reg.get_collection(c);
  std::map<std::int64_t, DimensionRecord> exposures;
  for (auto& r : reg.query_records("exposure", {{"instrument", instrument}}))
    exposures.emplace(std::get<std::int64_t>(r.get("id")), std::move(r));
  if (exposures.empty())
    throw NotFoundError(fmt::format("{} has no exposure records; ingest its raws first with `butler ingest-raws`",
                                    instrument));
  // Every detector of the camera gets its region in every visit, as Rubin computes them.
  std::set<std::int64_t> all_detectors;
  for (const auto& d : camera.detectors()) all_detectors.insert(d.id);

  // The science exposures with a pointing, in id order.
  std::vector<const DimensionRecord*> science;
  for (const auto& [exposure_id, e] : exposures) {
    if (options.only_exposures && !options.only_exposures->count(exposure_id)) continue;
    ++result.exposures;
    const auto can_see_sky = field<bool>(e, "can_see_sky");
    const bool on_sky = can_see_sky ? *can_see_sky : field<std::string>(e, "observation_type") == "science";
    if (!on_sky) {
      ++result.not_science;
      continue;
    }
    if (!field<double>(e, "tracking_ra") || !field<double>(e, "tracking_dec")) {
      ++result.no_pointing;
      result.warnings.push_back(fmt::format("exposure {} ({}) has no tracking RA/Dec: no visit defined for it",
                                            exposure_id, field<std::string>(e, "obs_id").value_or("?")));
      continue;
    }
    science.push_back(&e);
  }

  // Group them into visits.
  std::map<std::int64_t, VisitPlan> visits;
  auto id_of = [](const DimensionRecord& e) { return std::get<std::int64_t>(e.get("id")); };
  auto obs_id = [&](const DimensionRecord& e) {
    return field<std::string>(e, "obs_id").value_or(std::to_string(id_of(e)));
  };
  auto add = [&](std::int64_t id, std::string name, std::vector<const DimensionRecord*> members, std::set<int> systems) {
    auto& v = visits[id];
    if (!v.exposures.empty())
      throw ConflictError(fmt::format("visits '{}' and '{}' of {} would both have id {}; exposure ids and visit ids "
                                      "of another grouping collide",
                                      v.name, name, instrument, id));
    v.id = id;
    v.name = std::move(name);
    v.exposures = std::move(members);
    v.systems = std::move(systems);
    v.detectors = all_detectors;
  };
  switch (options.grouping) {
    case VisitGrouping::kOneToOne:
      result.visit_systems = {kOneToOne};
      for (const auto* e : science) add(id_of(*e), obs_id(*e), {e}, {kOneToOne});
      break;
    case VisitGrouping::kByGroupMetadata: {
      result.visit_systems = {kByGroupMetadata};
      // Exposures come in increasing id order, so the first of a group has the smallest id.
      std::map<std::string, std::vector<const DimensionRecord*>> groups;
      std::vector<std::string> order;
      for (const auto* e : science) {
        auto name = field<std::string>(*e, "group").value_or(obs_id(*e));
        auto& g = groups[name];
        if (g.empty()) order.push_back(name);
        g.push_back(e);
      }
      for (const auto& name : order) add(id_of(*groups[name].front()), name, groups[name], {kByGroupMetadata});
      break;
    }
    case VisitGrouping::kOneToOneAndByCounter: {
      result.visit_systems = {kOneToOne, kBySeqStartEnd};
      // Snaps of one sequence share (day_obs, seq_start, seq_end); without counters an exposure
      // is a sequence of its own.
      using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
      std::map<Key, std::vector<const DimensionRecord*>> sequences;
      for (const auto* e : science) {
        const auto seq = field<std::int64_t>(*e, "seq_num").value_or(0);
        sequences[{field<std::int64_t>(*e, "day_obs").value_or(0), field<std::int64_t>(*e, "seq_start").value_or(seq),
                   field<std::int64_t>(*e, "seq_end").value_or(seq)}]
            .push_back(e);
      }
      for (auto& [key, snaps] : sequences) {
        std::stable_sort(snaps.begin(), snaps.end(), [&](const DimensionRecord* a, const DimensionRecord* b) {
          return field<std::int64_t>(*a, "seq_num").value_or(0) < field<std::int64_t>(*b, "seq_num").value_or(0);
        });
        const auto* first = snaps.front();
        const bool multi = snaps.size() > 1;
        const bool first_present = field<std::int64_t>(*first, "seq_num").value_or(0) == std::get<1>(key);
        if (multi && !first_present)
          result.warnings.push_back(fmt::format(
              "the first snap of sequence {}-{} of day {} is not ingested: no multi-snap visit defined for it",
              std::get<1>(key), std::get<2>(key), std::get<0>(key)));
        for (const auto* e : snaps) {
          if (!multi) {
            add(id_of(*e), obs_id(*e), {e}, {kOneToOne, kBySeqStartEnd});
          } else if (first_present && e == first) {
            // Rubin's rule: the multi-snap visit takes the first snap's id and name.
            add(std::stoll("9" + std::to_string(id_of(*e))), obs_id(*e) + "_first", {e}, {kOneToOne});
          } else {
            add(id_of(*e), obs_id(*e), {e}, {kOneToOne});
          }
        }
        if (multi && first_present) add(id_of(*first), obs_id(*first), snaps, {kBySeqStartEnd});
      }
      break;
    }
  }
  result.visits = visits.size();

  std::map<std::int64_t, DimensionRecord> existing;
  for (auto& r : reg.query_records("visit", {{"instrument", instrument}}))
    existing.emplace(std::get<std::int64_t>(r.get("id")), std::move(r));

  std::vector<DimensionRecord> visit_records, updated_records, definitions, memberships, regions;
  Progress* const progress = options.progress;
  if (progress) progress->start("defining visits", visits.size());
  for (const auto& [id, v] : visits) {
    if (progress) progress->check_cancelled();
    const auto& first = *v.exposures.front();
    const auto filter = field<std::string>(first, "physical_filter").value_or("");
    double exposure_time = 0.0;
    std::int64_t seq_num = field<std::int64_t>(first, "seq_num").value_or(0);
    std::int64_t begin = Timespan::kUnboundedEnd, end = Timespan::kUnboundedBegin;
    for (const auto* e : v.exposures) {
      if (field<std::string>(*e, "physical_filter").value_or("") != filter)
        throw ConflictError(fmt::format("visit {} ('{}') mixes physical filters {} and {}; exposures of one visit "
                                        "must share a filter (use the one-to-one grouping)",
                                        id, v.name, filter, field<std::string>(*e, "physical_filter").value_or("")));
      exposure_time += field<double>(*e, "exposure_time").value_or(0.0);
      seq_num = std::min(seq_num, field<std::int64_t>(*e, "seq_num").value_or(seq_num));
      if (auto span = field<Timespan>(*e, "timespan")) {
        begin = std::min(begin, span->begin_ns());
        end = std::max(end, span->end_ns());
      }
    }
    // Regions come from the first exposure's pointing (as Rubin's single-raw-wcs does). The
    // exposure's sky_angle is the header's ROTPA, which is the camera's rotation + 90°.
    const Pointing pointing{*field<double>(first, "tracking_ra"), *field<double>(first, "tracking_dec"),
                            field<double>(first, "sky_angle").value_or(90.0) - 90.0};
    std::vector<sphere::UnitVector3d> corners;
    std::vector<DimensionRecord> detector_regions;
    for (const auto detector_id : v.detectors) {
      const auto* detector = camera.find_detector(static_cast<int>(detector_id));
      if (!detector) continue;  // registered but not in this camera description: no geometry
      const auto polygon = detector_sky_polygon(camera, *detector, pointing, options.padding_pixels);
      corners.insert(corners.end(), polygon.vertices().begin(), polygon.vertices().end());
      detector_regions.push_back(make_record(universe.get("visit_detector_region"),
                                             {{"instrument", instrument},
                                              {"detector", detector_id},
                                              {"visit", id},
                                              {"region", dimensions::Bytes{polygon.encode()}}}));
    }
    std::map<std::string, FieldValue> values{
        {"instrument", instrument},
        {"id", id},
        {"day_obs", first.get("day_obs")},
        {"physical_filter", filter},
        {"name", v.name},
        {"seq_num", seq_num},
        {"exposure_time", exposure_time},
        {"target_name", first.get("target_name")},
        {"observation_reason", first.get("observation_reason")},
        {"science_program", first.get("science_program")},
        {"azimuth", first.get("azimuth")},
        {"zenith_angle", first.get("zenith_angle")},
    };
    if (!corners.empty())
      values["region"] = dimensions::Bytes{sphere::ConvexPolygon::convex_hull(corners).encode()};
    // Padded to one nanosecond when instantaneous, as daf_butler does (see obs_info.cpp).
    if (begin <= end) values["timespan"] = Timespan(begin, std::max(end, begin + 1));
    auto record = make_record(universe.get("visit"), values);
    bool write_regions = true;
    if (auto have = existing.find(id); have != existing.end()) {
      write_regions = false;
      if (have->second.values() != record.values()) {
        const auto& fields = record.element().record_fields();
        std::string diff;
        for (std::size_t i = 0; i < fields.size() && diff.empty(); ++i)
          if (have->second.values()[i] != record.values()[i])
            diff = fields[i].type == dimensions::FieldType::kRegion
                       ? std::string("region")
                       : fmt::format("{}: {} defined, {} now", fields[i].name,
                                     dimensions::to_string(have->second.values()[i]),
                                     dimensions::to_string(record.values()[i]));
        if (options.update_records) {
          updated_records.push_back(std::move(record));
          write_regions = true;
          ++result.updated_visits;
        } else if (options.skip_conflicting) {
          result.warnings.push_back(fmt::format("visit {} ('{}') is already defined differently ({}); left as it is",
                                                id, v.name, diff));
          ++result.conflicting;
          if (progress) progress->advance();
          continue;
        } else {
          throw ConflictError(fmt::format("visit {} of {} is already defined differently ({}); visits from another "
                                          "grouping or changed exposures cannot replace it (--update-records "
                                          "replaces it, --skip-conflicting leaves it)",
                                          id, instrument, diff));
        }
      }
    } else {
      visit_records.push_back(std::move(record));
      ++result.new_visits;
    }
    for (const auto* e : v.exposures)
      definitions.push_back(make_record(universe.get("visit_definition"),
                                        {{"instrument", instrument}, {"exposure", e->get("id")}, {"visit", id}}));
    for (const int system : v.systems)
      memberships.push_back(make_record(universe.get("visit_system_membership"),
                                        {{"instrument", instrument}, {"visit_system", system}, {"visit", id}}));
    // Detector regions of visits that already existed are not rewritten, unless updated.
    if (write_regions)
      for (auto& r : detector_regions) regions.push_back(std::move(r));
    if (progress) progress->advance();
  }
  result.detector_regions = regions.size();
  if (progress) {
    progress->finish();
    progress->check_cancelled();  // the last chance to stop before anything is written
  }

  auto txn = reg.transaction();
  for (const int system : result.visit_systems)
    reg.sync_record(make_record(universe.get("visit_system"),
                                {{"instrument", instrument},
                                 {"id", static_cast<std::int64_t>(system)},
                                 {"name", std::string(visit_system_name(system))}}));
  using OnConflict = registry::Registry::OnConflict;
  if (!visit_records.empty()) reg.insert_records("visit", visit_records, OnConflict::kFail);
  if (!updated_records.empty()) reg.insert_records("visit", updated_records, OnConflict::kReplace);
  const auto replace_regions = updated_records.empty() ? OnConflict::kSkip : OnConflict::kReplace;
  if (!definitions.empty()) reg.insert_records("visit_definition", definitions, OnConflict::kSkip);
  if (!memberships.empty()) reg.insert_records("visit_system_membership", memberships, OnConflict::kSkip);
  if (!regions.empty()) reg.insert_records("visit_detector_region", regions, replace_regions);
  txn.commit();
  return result;
}

}  // namespace majordome::instrument
