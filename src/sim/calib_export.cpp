#include "majordome/sim/calib_export.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "majordome/core/error.hpp"
#include "majordome/datastore/atomic_file.hpp"
#include "majordome/core/time.hpp"
#include "majordome/core/uuid.hpp"
#include "majordome/image/fits_file.hpp"

namespace fs = std::filesystem;

namespace majordome::sim {

namespace {

// What each calibration type is in a Rubin repository (pipe_tasks / cp_pipe dataset types).
struct CalibType {
  const char* name;
  const char* storage_class;
  bool per_filter;
};
constexpr CalibType kTypes[] = {
    {"bias", "ExposureF", false},
    {"dark", "ExposureF", false},
    {"flat", "ExposureF", true},
    {"defects", "Defects", false},
};

struct CalibFile {
  const CalibType* type;
  int detector;
  std::string physical_filter;  // flats only
  TaiTime valid_from;
  std::string path;  // relative to the calib directory, '/'-separated
};

// The "KEY: value" lines of an ECSV file's meta block ("#   DETECTOR: 4").
std::map<std::string, std::string> ecsv_meta(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw IoError(fmt::format("{}: cannot open", file.string()));
  std::map<std::string, std::string> meta;
  std::string line;
  bool in_meta = false;
  while (std::getline(in, line) && line.rfind('#', 0) == 0) {
    if (line == "# meta:") {
      in_meta = true;
      continue;
    }
    if (!in_meta) continue;
    if (line.rfind("#   ", 0) != 0) break;
    const auto colon = line.find(':', 4);
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) value = value.substr(1, value.size() - 2);
    meta[line.substr(4, colon - 4)] = value;
  }
  return meta;
}

CalibFile describe(const fs::path& calib_dir, const fs::path& file, const instrument::Camera& camera) {
  std::string obstype, filter, calibdate, instrument;
  std::optional<std::int64_t> detector;
  if (file.extension() == ".ecsv") {
    auto meta = ecsv_meta(file);
    obstype = meta["OBSTYPE"];
    instrument = meta["INSTRUME"];
    calibdate = meta["CALIBDATE"];
    if (!meta["DETECTOR"].empty()) detector = std::stoll(meta["DETECTOR"]);
  } else {
    image::FitsFile f(file, image::FitsMode::kRead);
    const auto h = f.read_header();
    obstype = h.find_string("OBSTYPE").value_or("");
    instrument = h.find_string("INSTRUME").value_or("");
    filter = h.find_string("FILTER").value_or("");
    calibdate = h.find_string("CALIBDATE").value_or("");
    detector = h.find_int("DETECTOR");
  }
  const auto type = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const CalibType& t) { return obstype == t.name; });
  auto missing = [&](std::string_view what) {
    return CorruptFileError(fmt::format("{}: {} (not a calibration written by majordome sim?)", file.string(), what));
  };
  if (type == std::end(kTypes)) throw missing(fmt::format("OBSTYPE '{}' is not bias, dark, flat or defects", obstype));
  if (instrument != camera.name()) throw missing(fmt::format("INSTRUME '{}' is not {}", instrument, camera.name()));
  if (!detector || !camera.find_detector(static_cast<int>(*detector)))
    throw missing(fmt::format("no detector of {} in DETECTOR", camera.name()));
  if (calibdate.empty()) throw missing("no CALIBDATE");
  if (type->per_filter && (filter.empty() || filter == "NONE")) throw missing("a flat without FILTER");
  return {type, static_cast<int>(*detector), type->per_filter ? filter : std::string(),
          TaiTime::from_tai_iso(calibdate), fs::relative(file, calib_dir).generic_string()};
}

}  // namespace

CalibExportSummary write_calib_export(const fs::path& calib_dir, const instrument::Camera& camera,
                                      const CalibExportOptions& options) {
  std::vector<CalibFile> files;
  if (fs::is_directory(calib_dir)) {
    for (const auto& entry : fs::recursive_directory_iterator(calib_dir)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".fits" || ext == ".ecsv"))
        files.push_back(describe(calib_dir, entry.path(), camera));
    }
  }
  if (files.empty())
    throw NotFoundError(fmt::format("{}: no calibration files to export (simulate with --calibs)", calib_dir.string()));
  std::sort(files.begin(), files.end(), [](const CalibFile& a, const CalibFile& b) { return a.path < b.path; });

  CalibExportSummary summary;
  summary.calibration_collection = fmt::format("{}/calib/{}", camera.name(), options.label);
  summary.run = summary.calibration_collection + "/run";
  summary.datasets = static_cast<int>(files.size());
  // Dataset IDs: UUIDv5 in a namespace of our own, of everything that makes the dataset unique.
  static const Uuid kNamespace = Uuid::v5(Uuid::get("6ba7b811-9dad-11d1-80b4-00c04fd430c8"), "majordome.sim.calib");
  auto dataset_id = [&](const CalibFile& c) {
    return Uuid::v5(kNamespace, fmt::format("{} {} {} {} {}", camera.name(), c.type->name, c.detector,
                                            c.physical_filter, summary.run))
        .str();
  };

  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "description" << YAML::Value << "Butler Data Repository Export";
  out << YAML::Key << "version" << YAML::Value << "1.0.2";
  out << YAML::Key << "universe_version" << YAML::Value << 7;
  out << YAML::Key << "universe_namespace" << YAML::Value << "daf_butler";
  out << YAML::Key << "data" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : kTypes) {
    out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "dataset_type";
    out << YAML::Key << "name" << YAML::Value << t.name;
    out << YAML::Key << "dimensions" << YAML::Value << YAML::Flow << YAML::BeginSeq << "instrument" << "detector";
    if (t.per_filter) out << "physical_filter";
    out << YAML::EndSeq;
    out << YAML::Key << "storage_class" << YAML::Value << t.storage_class;
    out << YAML::Key << "is_calibration" << YAML::Value << true << YAML::EndMap;
  }
  // As cp_pipe certifies them: one CALIBRATION collection per type (per band for flats) and
  // date, <instrument>/calib/<label>/<type>.<yyyymmdd>a, chained under <instrument>/calib/<label>.
  std::map<std::string, std::vector<const CalibFile*>> members;  // collection -> files
  for (const auto& c : files) {
    std::string date = c.valid_from.tai_iso(0, 'T').substr(0, 10);
    date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
    const std::string what =
        c.type->per_filter ? fmt::format("{}-{}", c.type->name, camera.get_filter(c.physical_filter).band) : c.type->name;
    members[fmt::format("{}/{}.{}a", summary.calibration_collection, what, date)].push_back(&c);
  }
  out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "collection";
  out << YAML::Key << "collection_type" << YAML::Value << "RUN";
  out << YAML::Key << "name" << YAML::Value << summary.run << YAML::EndMap;
  for (const auto& [name, _] : members) {
    out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "collection";
    out << YAML::Key << "collection_type" << YAML::Value << "CALIBRATION";
    out << YAML::Key << "name" << YAML::Value << name << YAML::EndMap;
  }
  out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "collection";
  out << YAML::Key << "collection_type" << YAML::Value << "CHAINED";
  out << YAML::Key << "name" << YAML::Value << summary.calibration_collection;
  out << YAML::Key << "children" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, _] : members) out << name;
  out << YAML::EndSeq << YAML::EndMap;
  for (const auto& t : kTypes) {
    bool any = false;
    for (const auto& c : files) {
      if (c.type != &t) continue;
      if (!any) {
        out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "dataset";
        out << YAML::Key << "dataset_type" << YAML::Value << t.name;
        out << YAML::Key << "run" << YAML::Value << summary.run;
        out << YAML::Key << "records" << YAML::Value << YAML::BeginSeq;
        any = true;
      }
      out << YAML::BeginMap << YAML::Key << "dataset_id" << YAML::Value << YAML::Flow << YAML::BeginSeq
          << YAML::LocalTag("uuid") << dataset_id(c) << YAML::EndSeq;
      out << YAML::Key << "data_id" << YAML::Value << YAML::Flow << YAML::BeginSeq << YAML::BeginMap;
      out << YAML::Key << "instrument" << YAML::Value << camera.name();
      out << YAML::Key << "detector" << YAML::Value << c.detector;
      if (t.per_filter) out << YAML::Key << "physical_filter" << YAML::Value << c.physical_filter;
      out << YAML::EndMap << YAML::EndSeq;
      out << YAML::Key << "path" << YAML::Value << c.path << YAML::EndMap;
    }
    if (any) out << YAML::EndSeq << YAML::EndMap;
  }
  // Valid from the date the frames were made, open-ended.
  for (const auto& [name, in_collection] : members) {
    std::map<std::int64_t, std::vector<const CalibFile*>> ranges;
    for (const auto* c : in_collection) ranges[c->valid_from.ns()].push_back(c);
    out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "associations";
    out << YAML::Key << "collection" << YAML::Value << name;
    out << YAML::Key << "collection_type" << YAML::Value << "CALIBRATION";
    out << YAML::Key << "validity_ranges" << YAML::Value << YAML::BeginSeq;
    for (const auto& [ns, in_range] : ranges) {
      out << YAML::BeginMap << YAML::Key << "timespan" << YAML::Value << YAML::LocalTag("lsst.daf.butler.Timespan")
          << YAML::BeginMap << YAML::Key << "begin" << YAML::Value << YAML::LocalTag("butler_time/tai/iso")
          << YAML::SingleQuoted << in_range.front()->valid_from.tai_iso(9) << YAML::Key << "end" << YAML::Value
          << YAML::Null << YAML::EndMap;
      out << YAML::Key << "dataset_ids" << YAML::Value << YAML::BeginSeq;
      for (const auto* c : in_range) out << YAML::LocalTag("uuid") << dataset_id(*c);
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) throw InternalError(std::string("YAML emitter failed: ") + out.GetLastError());

  summary.file = calib_dir / "export.yaml";
  datastore::atomic_write(summary.file, std::string(out.c_str()) + "\n", {datastore::Overwrite::kReplace});
  return summary;
}

}  // namespace majordome::sim
