#include "majordome/instrument/curated.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/core/time.hpp"
#include "majordome/instrument/register.hpp"

namespace majordome::instrument {

namespace fs = std::filesystem;

namespace {

// Curated calibration types majordome knows: directory name → storage class.
const std::map<std::string, std::string>& curated_types() {
  static const std::map<std::string, std::string> types{
      {"defects", "Defects"},
      {"crosstalk", "CrosstalkCalib"},
      {"linearizer", "Linearizer"},
  };
  return types;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

std::string collection_timestamp(std::string_view calib_date) {
  std::string digits;
  for (char c : calib_date)
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  if (digits.size() < 8) throw InvalidArgumentError(fmt::format("calibration date '{}' is not an ISO date", calib_date));
  digits.resize(14, '0');
  return digits.substr(0, 8) + "T" + digits.substr(8, 6) + "Z";
}

std::vector<CuratedFile> find_curated_files(std::string_view instrument) {
  std::vector<CuratedFile> out;
  const fs::path root = data_dir() / "instruments" / "curated" / std::string(instrument);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  static const std::regex date_name(R"((\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.ecsv)");
  std::optional<Camera> camera;
  for (const auto& [type, storage_class] : curated_types()) {
    const fs::path dir = root / type;
    if (!fs::is_directory(dir, ec)) continue;
    if (!camera) camera = load_instrument_camera(get_instrument(instrument));
    for (const auto& det_dir : fs::directory_iterator(dir)) {
      if (!det_dir.is_directory()) continue;
      const auto det_name = upper(det_dir.path().filename().string());
      const auto* detector = camera->find_detector(std::string_view(det_name));
      if (!detector)
        throw NotFoundError(fmt::format("{}: no detector {} in the {} camera description", det_dir.path().string(),
                                        det_name, instrument));
      for (const auto& f : fs::directory_iterator(det_dir.path())) {
        std::smatch m;
        const auto name = f.path().filename().string();
        if (!std::regex_match(name, m, date_name)) continue;
        out.push_back({type, storage_class, detector->id,
                       fmt::format("{}-{}-{}T{}:{}:{}", m[1].str(), m[2].str(), m[3].str(), m[4].str(), m[5].str(),
                                   m[6].str()),
                       f.path()});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const CuratedFile& a, const CuratedFile& b) {
    return std::tie(a.dataset_type, a.detector, a.calib_date) < std::tie(b.dataset_type, b.detector, b.calib_date);
  });
  return out;
}

CuratedResult write_curated_calibrations(butler::Butler& butler, std::string_view instrument_arg,
                                         const CuratedOptions& options) {
  if (options.labels.empty() && options.collection.empty())
    throw InvalidArgumentError(
        "write-curated-calibrations needs a --label (usually the ticket, e.g. --label DM-48650): it names the "
        "collections <INSTRUMENT>/calib/<label> and <INSTRUMENT>/calib/<label>/unbounded");
  auto& reg = butler.registry();
  CuratedResult result;
  const std::string instrument = registered_instrument_name(reg, instrument_arg);
  result.instrument = instrument;
  const auto info = get_instrument(instrument);
  const Camera camera = load_instrument_camera(info);
  const auto curated = find_curated_files(instrument);

  const std::string base = (options.prefix.empty() ? instrument : options.prefix) + "/calib" + (options.labels.empty() ? "" : "/" + fmt::format("{}", fmt::join(options.labels, "/")));
  result.calibration_collection = options.collection.empty() ? base : options.collection;
  if (auto c = reg.find_collection(result.calibration_collection))
    throw ConflictError(fmt::format("collection '{}' already exists ({}); curated calibrations are written once per "
                                    "label: choose a new --label",
                                    result.calibration_collection, registry::collection_type_name(c->type)));
  const auto& universe = reg.universe();
  const registry::DatasetType camera_type{"camera", universe.group({"instrument"}), "Camera", true};

  // One batch: a failure anywhere leaves neither registry rows nor copied files.
  butler::Butler::WriteBatch batch(butler);
  reg.register_collection(result.calibration_collection, registry::CollectionType::kCalibration,
                          fmt::format("Curated calibrations of {} ({})", instrument, fmt::join(options.labels, "/")));
  reg.register_dataset_type(camera_type);
  butler::IngestOptions ingest_options;
  ingest_options.transfer = options.transfer;
  ingest_options.id_mode = registry::IdGenerationMode::kDataIdTypeRun;

  // The camera, valid forever.
  const std::string unbounded = base + "/unbounded";
  {
    butler::FileDataset file;
    file.path = camera.source();
    file.formatter = "majordome.instrument.CameraYamlFormatter";
    file.refs.push_back({Uuid(), camera_type.name, {{"instrument", instrument}}, unbounded});
    auto refs = butler.ingest({file}, unbounded, ingest_options);
    reg.certify(result.calibration_collection, refs, Timespan());
    result.runs.push_back(unbounded);
    result.datasets += refs.size();
    result.dataset_types.push_back(camera_type.name);
  }

  // Curated files: one run per validity start; each valid until the next start of its detector.
  std::map<std::string, std::vector<const CuratedFile*>> by_run;
  for (const auto& f : curated) by_run[base + "/curated/" + collection_timestamp(f.calib_date)].push_back(&f);
  std::map<const CuratedFile*, registry::DatasetRef> written;
  for (const auto& [run, list] : by_run) {
    std::vector<butler::FileDataset> files;
    for (const auto* f : list) {
      reg.register_dataset_type({f->dataset_type, universe.group({"instrument", "detector"}), f->storage_class, true});
      butler::FileDataset file;
      file.path = f->path;
      file.formatter = "majordome.instrument.CuratedEcsvFormatter";
      file.refs.push_back({Uuid(), f->dataset_type, {{"instrument", instrument}, {"detector", std::int64_t{f->detector}}}, run});
      files.push_back(std::move(file));
    }
    const auto refs = butler.ingest(files, run, ingest_options);
    for (std::size_t i = 0; i < list.size(); ++i) written.emplace(list[i], refs.at(i));
    result.runs.push_back(run);
    result.datasets += refs.size();
  }
  for (std::size_t i = 0; i < curated.size(); ++i) {
    const auto& f = curated[i];
    const bool last = i + 1 == curated.size() || curated[i + 1].dataset_type != f.dataset_type ||
                      curated[i + 1].detector != f.detector;
    const auto begin = TaiTime::from_utc_iso(f.calib_date).ns();
    const auto end = last ? Timespan::kUnboundedEnd : TaiTime::from_utc_iso(curated[i + 1].calib_date).ns();
    reg.certify(result.calibration_collection, {written.at(&f)}, Timespan(begin, end));
    if (std::find(result.dataset_types.begin(), result.dataset_types.end(), f.dataset_type) == result.dataset_types.end())
      result.dataset_types.push_back(f.dataset_type);
  }
  batch.commit();
  return result;
}

}  // namespace majordome::instrument
