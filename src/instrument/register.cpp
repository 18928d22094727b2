#include "majordome/instrument/register.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"

namespace majordome::instrument {

namespace {

using dimensions::FieldValue;

// Rubin's obs_lsst limits: exposure ids YYYYMMDD·10⁵ + seq_num with a controller digit up to
// 7 and day_obs up to 2050-12-31 (LsstBaseTranslator.max_exposure_id); visits use the same ids.
constexpr std::int64_t kLsstExposureMax = 7050123199999;
constexpr std::int64_t kLsstDetectorMax = 1000;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::vector<InstrumentInfo> known_instruments() {
  return {
      {"LATISS", "lsst.obs.lsst.Latiss", kLsstExposureMax, kLsstExposureMax, kLsstDetectorMax, 0, "LATISS"},
      {"LSSTComCam", "lsst.obs.lsst.LsstComCam", kLsstExposureMax, kLsstExposureMax, kLsstDetectorMax, 0, "LSSTComCam"},
      {"LSSTComCamSim", "lsst.obs.lsst.LsstComCamSim", kLsstExposureMax, kLsstExposureMax, kLsstDetectorMax, 0,
       "LSSTComCam"},
      {"LSSTCam", "lsst.obs.lsst.LsstCam", kLsstExposureMax, kLsstExposureMax, kLsstDetectorMax, 0, "LSSTCam"},
      {"TestCam", "majordome.instrument.TestCam", kLsstExposureMax, kLsstExposureMax, kLsstDetectorMax, 0, "TestCam"},
      {"HSC", "lsst.obs.subaru.HyperSuprimeCam", 21474800, 21474800, 200, 0, "HSC"},
      {"MegaPrime", "lsst.obs.cfht.MegaPrime", 1LL << 25, 1LL << 25, 36, 0, "MegaPrime"},
      {"DECam", "lsst.obs.decam.DarkEnergyCamera", 1LL << 25, 1LL << 25, 100, 0, "DECam"},
  };
}


InstrumentInfo get_instrument(std::string_view name_or_class) {
  const auto all = known_instruments();
  for (const auto& i : all)
    if (i.name == name_or_class || i.class_name == name_or_class) return i;
  const auto wanted = lower(name_or_class);
  for (const auto& i : all)
    if (lower(i.name) == wanted || lower(i.class_name) == wanted) return i;
  std::vector<std::string> names;
  for (const auto& i : all) names.push_back(fmt::format("{} ({})", i.name, i.class_name));
  throw NotFoundError(fmt::format("unknown instrument '{}'; known instruments (name or Rubin class name): {}",
                                  name_or_class, fmt::join(names, ", ")));
}

Camera load_instrument_camera(const InstrumentInfo& info) {
  const auto cameras = known_cameras();
  if (std::find(cameras.begin(), cameras.end(), info.camera) == cameras.end())
    throw NotFoundError(fmt::format(
        "no camera description for {} ({}) yet: majordome needs {}/instruments/{}.yaml (detector ids and names, "
        "filters; docs/formats/camera.md); cameras available: {}",
        info.name, info.class_name, data_dir().string(), info.camera, fmt::join(cameras, ", ")));
  return load_camera(info.camera);
}

dimensions::DimensionRecord make_record(const dimensions::DimensionElement& element,
                                        const std::map<std::string, FieldValue>& values) {
  std::vector<FieldValue> row;
  row.reserve(element.record_fields().size());
  for (const auto& f : element.record_fields()) {
    auto it = values.find(f.name);
    row.push_back(it == values.end() ? FieldValue{} : it->second);
  }
  return dimensions::DimensionRecord(element, std::move(row));
}

RegisterInstrumentResult register_instrument(registry::Registry& registry, std::string_view name_or_class,
                                             bool update) {
  RegisterInstrumentResult result;
  result.instrument = get_instrument(name_or_class);
  const auto& info = result.instrument;
  const Camera camera = load_instrument_camera(info);
  const auto& universe = registry.universe();

  std::vector<dimensions::DimensionRecord> records;
  records.push_back(make_record(universe.get("instrument"), {{"name", info.name},
                                                             {"visit_max", info.visit_max},
                                                             {"visit_system", std::int64_t{info.visit_system}},
                                                             {"exposure_max", info.exposure_max},
                                                             {"detector_max", info.detector_max},
                                                             {"class_name", info.class_name}}));
  // A camera without rafts (MegaPrime) leaves raft NULL, as Rubin's obs_cfht does.
  auto optional_text = [](const std::string& s) { return s.empty() ? FieldValue{} : FieldValue{s}; };
  for (const auto& d : camera.detectors()) {
    records.push_back(make_record(universe.get("detector"), {{"instrument", info.name},
                                                             {"id", std::int64_t{d.id}},
                                                             {"full_name", d.name},
                                                             {"name_in_raft", optional_text(d.ccd)},
                                                             {"raft", optional_text(d.raft)},
                                                             {"purpose", std::string(purpose_name(d.purpose))}}));
  }
  for (const auto& f : camera.filters()) {
    records.push_back(make_record(universe.get("physical_filter"),
                                  {{"instrument", info.name}, {"name", f.physical_filter}, {"band", f.band}}));
  }
  result.detectors = camera.detectors().size();
  result.filters = camera.filters().size();

  auto txn = registry.transaction();
  for (const auto& r : records) {
    try {
      if (registry.sync_record(r, update)) result.inserted = true;
    } catch (const ConflictError& e) {
      throw ConflictError(fmt::format("instrument {} is already registered with different records ({}); "
                                      "use --update to replace them",
                                      info.name, e.what()));
    }
  }
  txn.commit();
  return result;
}

std::string registered_instrument_name(registry::Registry& registry, std::string_view name_or_class) {
  std::string name(name_or_class);
  if (auto known = [&]() -> std::optional<InstrumentInfo> {
        try {
          return get_instrument(name_or_class);
        } catch (const NotFoundError&) {
          return std::nullopt;
        }
      }())
    name = known->name;
  if (!registry.find_record("instrument", {{"instrument", name}}))
    throw NotFoundError(fmt::format("instrument '{}' is not registered in this repository; run `butler "
                                    "register-instrument REPO {}` first",
                                    name, name));
  return name;
}

std::vector<DcrSubfilters> register_dcr_subfilters(registry::Registry& registry, int count,
                                                   const std::vector<std::string>& bands) {
  if (count < 1)
    throw InvalidArgumentError(fmt::format("NUM_SUBFILTERS is {}; give the number of subfilters per band (1 or more)",
                                           count));
  if (bands.empty()) throw InvalidArgumentError("no BAND_NAMES given; name the bands to divide (e.g. g r)");
  const auto& element = registry.universe().get("subfilter");
  for (const auto& band : bands)
    if (band.empty() || band.size() > 32)
      throw InvalidArgumentError(fmt::format("'{}' is not a band name (1 to 32 characters); name the bands to divide "
                                             "(e.g. g r)",
                                             band));
  std::vector<DcrSubfilters> out;
  for (const auto& band : bands) {
    auto txn = registry.transaction();  // band by band, as Rubin commits them
    DcrSubfilters result{band, {}, false};
    for (const auto& r : registry.query_records("subfilter", {{"band", band}}))
      result.ids.push_back(std::get<std::int64_t>(r.get("id")));
    if (result.ids.empty()) {
      std::vector<dimensions::DimensionRecord> records;
      for (std::int64_t id = 0; id < count; ++id) {
        records.push_back(make_record(element, {{"band", band}, {"id", id}}));
        result.ids.push_back(id);
      }
      registry.insert_records("subfilter", records);
      result.inserted = true;
    }
    std::sort(result.ids.begin(), result.ids.end());
    txn.commit();
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace majordome::instrument
