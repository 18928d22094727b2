#include "majordome/instrument/ingest.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "majordome/core/time.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/header_source.hpp"
#include "majordome/instrument/register.hpp"
#include "majordome/instrument/translator.hpp"
#include "header_json.hpp"
#include "majordome/datastore/resource.hpp"

namespace majordome::instrument {

namespace fs = std::filesystem;
using dimensions::FieldValue;
using registry::DataId;

namespace {

// What the reading phase learnt about one file.
struct FileMeta {
  bool ok = false;
  bool from_index = false;
  ExposureRecordValues values;
  std::optional<double> day_offset_s;
  std::optional<std::int64_t> seq_start, seq_end;
  bool sky_rotation = true;  // boresight rotation is a sky angle (else sky_angle is unknown)
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;
};

// An error message without a leading "<file>: " (the report names the file already).
std::string strip_file_prefix(std::string message, const fs::path& file) {
  for (const auto& prefix : {file.string() + ": ", file.filename().string() + ": "})
    if (message.rfind(prefix, 0) == 0) return message.substr(prefix.size());
  return message;
}

// The error code and reason to report for one file that failed with `e`.
std::pair<ErrorCode, std::string> failure_of(const std::exception& e, const fs::path& file) {
  if (const auto* error = dynamic_cast<const Error*>(&e)) return {error->code(), strip_file_prefix(e.what(), file)};
  if (dynamic_cast<const fs::filesystem_error*>(&e)) return {ErrorCode::kIoError, strip_file_prefix(e.what(), file)};
  return {ErrorCode::kInternal, strip_file_prefix(e.what(), file)};
}

void read_one(const fs::path& file, const MetadataIndex& index, FileMeta& meta) {
  try {
    ObservationInfo info;
    TranslateOptions topts;
    topts.source = file.string();
    if (auto header = index.header(file)) {
      meta.from_index = true;
      info = translate(*header, topts);
    } else {
      info = translate_file(file, topts);
    }
    meta.values = exposure_record(info, file.string());
    meta.day_offset_s = info.observing_day_offset_s;
    meta.seq_start = info.group_counter_start;
    meta.seq_end = info.group_counter_end;
    meta.sky_rotation = !info.boresight_rotation_coord || *info.boresight_rotation_coord == "sky";
    meta.ok = true;
  } catch (const Error& e) {
    meta.code = e.code();
    meta.reason = strip_file_prefix(e.what(), file);
  } catch (const std::exception& e) {
    meta.code = ErrorCode::kCorruptFile;
    meta.reason = strip_file_prefix(e.what(), file);
  }
  if (!meta.ok && meta.reason.empty()) meta.reason = "unknown error";
}

// A file ingest-raws found on a remote server: its name is the URI.
bool is_remote(const fs::path& file) { return datastore::is_remote_uri(file.native()); }

// The exposure record a raw's header gives (as ingest writes it).
dimensions::DimensionRecord exposure_record_of(const dimensions::Universe& universe, const FileMeta& meta) {
  const auto& v = meta.values;
  std::map<std::string, FieldValue> fields{
      {"instrument", v.instrument},
      {"id", v.id},
      {"obs_id", v.obs_id},
      {"day_obs", std::int64_t{v.day_obs}},
      {"group", v.group},
      {"physical_filter", v.physical_filter},
      {"exposure_time", v.exposure_time_s},
      {"observation_type", v.observation_type},
      {"observation_reason", v.observation_reason},
      {"seq_num", v.seq_num},
      {"seq_start", meta.seq_start.value_or(v.seq_num)},
      {"seq_end", meta.seq_end.value_or(v.seq_num)},
      {"target_name", v.target_name},
      {"science_program", v.science_program},
      {"has_simulated", v.has_simulated},
      {"timespan", v.timespan},
  };
  if (v.dark_time_s) fields["dark_time"] = *v.dark_time_s;
  if (v.tracking_ra_deg && v.tracking_dec_deg) {
    fields["tracking_ra"] = *v.tracking_ra_deg;
    fields["tracking_dec"] = *v.tracking_dec_deg;
    if (v.sky_angle_deg && meta.sky_rotation) fields["sky_angle"] = *v.sky_angle_deg;
  }
  if (v.azimuth_deg) fields["azimuth"] = *v.azimuth_deg;
  if (v.zenith_angle_deg) fields["zenith_angle"] = *v.zenith_angle_deg;
  if (v.can_see_sky) fields["can_see_sky"] = *v.can_see_sky;
  return make_record(universe.get("exposure"), fields);
}

bool same_file_content(const fs::path& a, const fs::path& b) {
  if (is_remote(a) || is_remote(b)) {
    if (a.native() == b.native()) return true;
    const auto ra = datastore::ResourcePath::parse(a.native()), rb = datastore::ResourcePath::parse(b.native());
    if (ra == rb) return true;
    const auto sa = datastore::stat_resource(ra), sb = datastore::stat_resource(rb);
    if (!sa.exists || !sb.exists || sa.size != sb.size) return false;
    constexpr std::size_t kChunk = 8 << 20;  // compared a piece at a time, never whole in memory
    for (std::int64_t at = 0; at < sa.size; at += kChunk)
      if (datastore::read_resource_range(ra, at, kChunk) != datastore::read_resource_range(rb, at, kChunk)) return false;
    return true;
  }
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;
  const auto ca = fs::weakly_canonical(a, ec);
  const auto cb = fs::weakly_canonical(b, ec);
  if (!ec && ca == cb) return true;
  if (fs::file_size(a, ec) != fs::file_size(b, ec) || ec) return false;
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 16), bb(1 << 16);
  while (fa && fb) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin())) return false;
  }
  return fa.eof() && fb.eof();
}

fs::path path_from_uri(const std::string& uri) {
  if (uri.rfind("file://", 0) == 0) return fs::path(uri.substr(7));
  return fs::path(uri);
}

// The first field whose value differs, for conflict messages.
std::string first_difference(const dimensions::DimensionRecord& have, const dimensions::DimensionRecord& want) {
  const auto& fields = have.element().record_fields();
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (have.values()[i] != want.values()[i])
      return fmt::format("{}: registered {}, this file {}", fields[i].name, dimensions::to_string(have.values()[i]),
                         dimensions::to_string(want.values()[i]));
  return "no difference";
}

std::optional<Timespan> day_obs_timespan(int day_obs, std::optional<double> offset_s) {
  if (!offset_s) return std::nullopt;
  const auto midnight = TaiTime::parse_tai_iso(
      fmt::format("{:04d}-{:02d}-{:02d}T00:00:00", day_obs / 10000, day_obs / 100 % 100, day_obs % 100));
  if (!midnight) return std::nullopt;
  const std::int64_t begin = midnight->ns() + static_cast<std::int64_t>(*offset_s * 1e9);
  return Timespan(begin, begin + 86400LL * 1000000000LL);
}

// One file ready to be written.
struct Planned {
  std::size_t index = 0;  // into the file list
  std::string run;
  DataId data_id;
  Uuid id;
  std::optional<dimensions::DimensionRecord> exposure;  // when this file brings a new exposure
  std::optional<dimensions::DimensionRecord> day_obs, group, physical_filter;
};

// The band of a physical filter the camera description does not list: that of a registered
// filter with the same part before '~' (LATISS filter~grating), else that part itself.
std::string filter_band(const std::string& physical_filter, const std::map<std::string, std::string>& band_of) {
  const auto head = physical_filter.substr(0, physical_filter.find('~'));
  for (const auto& [name, band] : band_of)
    if (name.substr(0, name.find('~')) == head) return band;
  return head.empty() ? std::string("unknown") : head;
}

// Lends a progress to the butler (Butler::progress) for the life of this object.
class LentProgress {
 public:
  LentProgress(butler::Butler& butler, Progress* progress) : butler_(butler), saved_(butler.progress) {
    butler_.progress = progress;
  }
  ~LentProgress() { butler_.progress = saved_; }
  LentProgress(const LentProgress&) = delete;
  LentProgress& operator=(const LentProgress&) = delete;

 private:
  butler::Butler& butler_;
  Progress* saved_;
};

}  // namespace

std::string default_raw_run(std::string_view instrument) { return fmt::format("{}/raw/all", instrument); }

std::vector<fs::path> find_raw_files(const std::vector<fs::path>& locations, const std::string& regex) {
  std::regex pattern;
  try {
    pattern = std::regex(regex);
  } catch (const std::regex_error& e) {
    throw InvalidArgumentError(fmt::format("--regex '{}' is not a valid regular expression: {}", regex, e.what()));
  }
  std::vector<fs::path> out;
  for (const auto& given : locations) {
    std::error_code ec;
    fs::path location = given;
    if (datastore::ResourcePath::looks_like_uri(given.native())) {
      const auto resource = datastore::ResourcePath::parse(given.native());
      if (resource.is_local()) {
        location = resource.local_path();
      } else {
        // A remote folder is listed (PROPFIND); its files keep their URIs as names.
        const auto info = datastore::stat_resource(resource);
        if (!info.exists)
          throw NotFoundError(fmt::format("{} does not exist (give raw files or folders holding them)", resource.str()));
        if (!info.is_directory) {
          out.emplace_back(resource.uri());
          continue;
        }
        for (const auto& entry : datastore::list_resource_files(resource))
          if (std::regex_search(entry.path.name(), pattern)) out.emplace_back(entry.path.uri());
        continue;
      }
    }
    if (fs::is_directory(location, ec)) {
      // Listed from its absolute, normal path, every entry's path is absolute and normal too.
      fs::path top = fs::absolute(location).lexically_normal();
      if (!top.has_filename() && top.has_relative_path()) top = top.parent_path();
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(top, fs::directory_options::follow_directory_symlink, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec)) continue;
        const auto name = it->path().filename().string();
        if (std::regex_search(name, pattern)) found.push_back(it->path());
      }
      if (ec) throw IoError(fmt::format("cannot list {}: {}", location.string(), ec.message()));
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(location, ec)) {
      out.push_back(fs::absolute(location).lexically_normal());
    } else {
      throw NotFoundError(fmt::format("{} does not exist (give raw files or directories holding them)",
                                      location.string()));
    }
  }
  return out;
}

// One parsed _index.json. The "__COMMON__" cards are converted once, grouped by key in the
// order of the JSON object (sorted), so that each file's header is a merge of two sorted lists.
struct MetadataIndex::Directory {
  struct Group {
    std::string key;
    std::vector<image::Card> cards;
    bool bad = false;  // not a header value: an error for each file that does not override it
  };
  fs::path path;
  nlohmann::json doc;
  std::vector<Group> common;
};

std::optional<image::Header> MetadataIndex::header(const fs::path& file) const {
  const auto it = files.find(file.string());
  if (it == files.end()) return std::nullopt;
  const Directory& dir = *it->second.directory;
  const nlohmann::json& own = dir.doc.at(it->second.name);
  const std::string what = file.string() + " (_index.json)";
  // As the JSON object {common…, own…, "__CONTENT__": "metadata"} read as a header dump
  // (parse_header_dump): keys in order, the file's value replacing a common one.
  image::Header h;
  auto add_common = [&](const Directory::Group& g) {
    if (g.bad) throw CorruptFileError(fmt::format("{}: value of {} is not a header value", what, g.key));
    for (const auto& card : g.cards) h.append(card);
  };
  auto c = dir.common.begin();
  for (const auto& [key, value] : own.items()) {
    for (; c != dir.common.end() && c->key < key; ++c) add_common(*c);
    if (c != dir.common.end() && c->key == key) ++c;
    if (key == "__CONTENT__") continue;
    detail::add_json_cards(h, key, value, what);
  }
  for (; c != dir.common.end(); ++c) add_common(*c);
  return h;
}

namespace {

// One directory's index: parsed, or why not (a warning), or absent.
struct ParsedIndex {
  std::shared_ptr<MetadataIndex::Directory> directory;
  std::string warning;
};

ParsedIndex read_index(const fs::path& dir) {
  ParsedIndex out;
  const bool remote = datastore::is_remote_uri(dir.native());
  // A folder on a server: its index is one GET (none there: a 404, nothing to use).
  const fs::path path = remote ? fs::path(datastore::ResourcePath::parse(dir.native()).join("_index.json").uri())
                               : dir / "_index.json";
  std::string text;
  if (remote) {
    try {
      text = datastore::read_resource(datastore::ResourcePath::parse(path.native()));
    } catch (const NotFoundError&) {
      return out;
    }
  } else {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return out;
  }
  auto parsed = std::make_shared<MetadataIndex::Directory>();
  parsed->path = path;
  nlohmann::json& doc = parsed->doc;
  try {
    if (remote) {
      doc = nlohmann::json::parse(text);
    } else {
      std::ifstream in(path);
      doc = nlohmann::json::parse(in);
    }
  } catch (const std::exception& e) {
    out.warning = fmt::format("{}: not valid JSON ({}); reading the files' headers instead", path.string(), e.what());
    return out;
  }
  if (!doc.is_object() || doc.value("__CONTENT__", std::string()) != "metadata") {
    out.warning = fmt::format(
        "{}: not a metadata index (\"__CONTENT__\": \"metadata\"); reading the files' headers instead",
        path.string());
    return out;
  }
  if (const auto common = doc.find("__COMMON__"); common != doc.end() && common->is_object()) {
    for (const auto& [key, value] : common->items()) {
      if (key == "__CONTENT__") continue;
      MetadataIndex::Directory::Group group{key, {}, false};
      image::Header cards;
      try {
        detail::add_json_cards(cards, key, value, path.string());
        group.cards = cards.cards();
      } catch (const CorruptFileError&) {
        group.bad = true;
      }
      parsed->common.push_back(std::move(group));
    }
  }
  out.directory = std::move(parsed);
  return out;
}

}  // namespace

MetadataIndex read_metadata_indexes(const std::vector<fs::path>& files, int jobs) {
  Executor executor(std::max(1, jobs));
  return read_metadata_indexes(files, executor);
}

MetadataIndex read_metadata_indexes(const std::vector<fs::path>& files, Executor& executor) {
  std::set<fs::path> unique;
  for (const auto& f : files) unique.insert(f.parent_path());
  const std::vector<fs::path> directories(unique.begin(), unique.end());
  // Parsing is most of the cost (JSON): the directories are shared among the executor's
  // threads, the results kept in directory order so that warnings and entries do not depend on them.
  std::vector<ParsedIndex> parsed(directories.size());
  executor.for_each(directories.size(), [&](std::size_t i) { parsed[i] = read_index(directories[i]); });
  MetadataIndex index;
  for (std::size_t i = 0; i < directories.size(); ++i) {
    if (!parsed[i].warning.empty()) index.warnings.push_back(std::move(parsed[i].warning));
    if (!parsed[i].directory) continue;
    for (const auto& [name, entry] : parsed[i].directory->doc.items()) {
      if (name.rfind("__", 0) == 0 || !entry.is_object()) continue;
      // Keyed as the files are named: normal paths, or the URIs of files on a server.
      const std::string key = datastore::is_remote_uri(directories[i].native())
                                  ? datastore::ResourcePath::parse(directories[i].native()).join(name).uri()
                                  : (directories[i] / name).lexically_normal().string();
      index.files[key] = MetadataIndex::Entry{parsed[i].directory, name};
    }
  }
  return index;
}

RawIngestResult ingest_raws(butler::Butler& butler, const std::vector<fs::path>& locations,
                            const RawIngestOptions& options) {
  RawIngestResult result;
  for (const auto& location : locations)
    if (datastore::is_remote_uri(location.native()) && options.transfer != "copy" && options.transfer != "auto" &&
        options.transfer != "direct" && options.transfer != "split")
      throw InvalidArgumentError(fmt::format("-t {} cannot take raws from {}: files on a server are copied in (copy, "
                                             "auto) or used where they are (direct, split)",
                                             options.transfer, location.string()));
  const auto files = find_raw_files(locations, options.regex);
  result.files = files.size();
  Executor executor(std::max(1, options.jobs));
  Progress* const progress = options.progress;
  if (progress) progress->check_cancelled();
  const auto index = options.use_index_files ? read_metadata_indexes(files, executor) : MetadataIndex{};
  result.warnings = index.warnings;

  // ---- read and translate every header (in parallel)
  std::vector<FileMeta> metas(files.size());
  {
    // With --fail-fast the files not yet read when one fails are left unread (no reason).
    std::atomic<bool> stop{false};
    if (progress) progress->start("reading headers", files.size());
    executor.for_each(files.size(), [&](std::size_t i) {
      if (stop.load(std::memory_order_relaxed)) return;
      read_one(files[i], index, metas[i]);
      if (!metas[i].ok && options.fail_fast) stop = true;
    }, progress);
    if (progress) {
      progress->finish();
      progress->check_cancelled();
    }
  }
  auto fail = [&](std::size_t i, ErrorCode code, std::string reason) {
    if (options.fail_fast)
      throw Error(code, fmt::format("{}: {} (stopped at the first bad file: --fail-fast)", files[i].string(), reason));
    result.failures.push_back({files[i], code, std::move(reason)});
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (metas[i].from_index) ++result.from_index;
    if (options.fail_fast && !metas[i].ok && !metas[i].reason.empty()) fail(i, metas[i].code, metas[i].reason);
  }

  // ---- plan: records and dataset IDs, checked against the registry (a few queries per instrument)
  auto& reg = butler.registry();
  const auto& universe = reg.universe();
  const registry::DatasetType raw_type{kRawDatasetType, universe.group({"instrument", "exposure", "detector"}),
                                       kRawStorageClass, false};
  struct InstrumentState {
    bool registered = false;
    std::set<std::int64_t> detectors;
    std::set<std::string> filters;
    std::map<std::string, std::string> band_of;  // registered physical_filter → band
    std::map<std::int64_t, dimensions::DimensionRecord> exposures;  // registered or planned
    std::set<std::int64_t> planned_exposures;  // first seen in this ingest
    std::set<std::int64_t> day_obs;
    std::set<std::string> groups;
  };
  std::map<std::string, InstrumentState> instruments;
  struct RunState {
    std::map<Uuid, std::size_t> planned;  // dataset ID → file index, this ingest
    std::set<Uuid> existing;
    bool loaded = false;
  };
  std::map<std::string, RunState> runs;
  std::set<std::string> present_runs;
  bool type_ready = false;

  std::vector<Planned> plan;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& meta = metas[i];
    if (!meta.ok) {
      if (!meta.reason.empty()) fail(i, meta.code, meta.reason);
      continue;
    }
    const auto& v = meta.values;
    auto [it_inst, first_time] = instruments.try_emplace(v.instrument);
    auto& inst = it_inst->second;
    if (first_time) {
      inst.registered = reg.find_record("instrument", {{"instrument", v.instrument}}).has_value();
      if (inst.registered) {
        const DataId where{{"instrument", v.instrument}};
        for (const auto& r : reg.query_records("detector", where)) inst.detectors.insert(std::get<std::int64_t>(r.get("id")));
        for (const auto& r : reg.query_records("physical_filter", where)) {
          inst.filters.insert(std::get<std::string>(r.get("name")));
          inst.band_of[std::get<std::string>(r.get("name"))] = std::get<std::string>(r.get("band"));
        }
        for (auto& r : reg.query_records("exposure", where)) inst.exposures.emplace(std::get<std::int64_t>(r.get("id")), std::move(r));
        for (const auto& r : reg.query_records("day_obs", where)) inst.day_obs.insert(std::get<std::int64_t>(r.get("id")));
        for (const auto& r : reg.query_records("group", where)) inst.groups.insert(std::get<std::string>(r.get("name")));
      }
    }
    if (!inst.registered) {
      fail(i, ErrorCode::kNotFound,
           fmt::format("instrument {} is not registered in this repository; run `butler register-instrument REPO {}` "
                       "first", v.instrument, v.instrument));
      continue;
    }
    if (!inst.detectors.count(v.detector)) {
      fail(i, ErrorCode::kNotFound,
           fmt::format("detector {} of {} is not registered (the camera description has no such detector)",
                       v.detector, v.instrument));
      continue;
    }
    Planned p;
    if (!inst.filters.count(v.physical_filter)) {
      // Real raws carry filter combinations no camera description lists ("unknown~unknown",
      // LATISS filter~grating pairs): record them rather than refuse the data.
      const auto band = filter_band(v.physical_filter, inst.band_of);
      p.physical_filter = make_record(universe.get("physical_filter"),
                                      {{"instrument", v.instrument}, {"name", v.physical_filter}, {"band", band}});
      inst.filters.insert(v.physical_filter);
      result.warnings.push_back(fmt::format("physical_filter '{}' of {} is not in its camera description; recorded "
                                            "with band '{}'",
                                            v.physical_filter, v.instrument, band));
    }

    p.index = i;
    p.run = options.output_run.empty() ? default_raw_run(v.instrument) : options.output_run;
    p.data_id = {{"instrument", v.instrument}, {"exposure", v.id}, {"detector", std::int64_t{v.detector}}};
    p.id = registry::make_dataset_id(registry::IdGenerationMode::kDataIdTypeRun, kRawDatasetType, p.run, p.data_id);

    auto exposure = exposure_record_of(universe, meta);
    if (auto have = inst.exposures.find(v.id); have != inst.exposures.end()) {
      // The first file of an exposure defines its record in one ingest (as Rubin does);
      // a record already in the registry must match.
      if (!inst.planned_exposures.count(v.id) && have->second.values() != exposure.values()) {
        fail(i, ErrorCode::kConflict,
             fmt::format("exposure {} of {} is already registered with a different record ({})", v.id, v.instrument,
                         first_difference(have->second, exposure)));
        if (p.physical_filter) {  // later files may need it
          p.index = files.size();
          plan.push_back(std::move(p));
        }
        continue;
      }
    } else {
      inst.exposures.emplace(v.id, exposure);
      inst.planned_exposures.insert(v.id);
      p.exposure = std::move(exposure);
    }
    if (!inst.day_obs.count(v.day_obs)) {
      std::map<std::string, FieldValue> d{{"instrument", v.instrument}, {"id", std::int64_t{v.day_obs}}};
      if (auto span = day_obs_timespan(v.day_obs, meta.day_offset_s)) d["timespan"] = *span;
      p.day_obs = make_record(universe.get("day_obs"), d);
      inst.day_obs.insert(v.day_obs);
    }
    if (!inst.groups.count(v.group)) {
      p.group = make_record(universe.get("group"), {{"instrument", v.instrument}, {"name", v.group}});
      inst.groups.insert(v.group);
    }

    auto& run = runs[p.run];
    if (!run.loaded) {
      if (!type_ready) {
        reg.register_dataset_type(raw_type);
        type_ready = true;
      }
      if (auto c = reg.find_collection(p.run); c && c->type != registry::CollectionType::kRun)
        throw CollectionTypeError(fmt::format("output run '{}' exists as a {} collection; raws go into a RUN "
                                              "collection (choose another --output-run)",
                                              p.run, registry::collection_type_name(c->type)));
      else if (c)
        for (const auto& ref : reg.datasets_in_collection(p.run, kRawDatasetType)) run.existing.insert(ref.id);
      run.loaded = true;
    }
    const auto dataset_text = dimensions::format_data_id(p.data_id, {"instrument", "exposure", "detector"});
    if (run.existing.count(p.id)) {
      bool same = false;
      for (const auto& stored : reg.stored_files(p.id))
        same = same || same_file_content(files[i], path_from_uri(butler.artifact_uri(stored)));
      if (same) {
        ++result.already_present;
        present_runs.insert(p.run);
      } else {
        fail(i, ErrorCode::kConflict,
             fmt::format("another file is already ingested as raw {} in run '{}'", dataset_text, p.run));
      }
      // Keep any new records this file planned for the files after it.
      if (p.exposure || p.day_obs || p.group || p.physical_filter) {
        p.index = files.size();  // records only
        plan.push_back(std::move(p));
      }
      continue;
    }
    if (auto prev = run.planned.find(p.id); prev != run.planned.end()) {
      if (same_file_content(files[i], files[prev->second])) {
        ++result.already_present;
      } else {
        fail(i, ErrorCode::kConflict,
             fmt::format("{} is also raw {} in this ingest; two files cannot hold the same data ID",
                         files[prev->second].string(), dataset_text));
      }
      continue;
    }
    run.planned.emplace(p.id, i);
    plan.push_back(std::move(p));
  }

  // ---- write in batches: records, then files and datasets, one transaction per batch
  butler::IngestOptions ingest_options;
  ingest_options.transfer = options.transfer;
  ingest_options.id_mode = registry::IdGenerationMode::kDataIdTypeRun;
  auto write = [&](std::span<const Planned> batch) {
    std::vector<dimensions::DimensionRecord> filters, day_obs, groups, exposures;
    std::map<std::string, std::vector<butler::FileDataset>> by_run;
    for (const auto& p : batch) {
      if (p.physical_filter) filters.push_back(*p.physical_filter);
      if (p.day_obs) day_obs.push_back(*p.day_obs);
      if (p.group) groups.push_back(*p.group);
      if (p.exposure) exposures.push_back(*p.exposure);
      if (p.index >= files.size()) continue;
      butler::FileDataset f;
      f.path = files[p.index];
      f.formatter = "majordome.image.RawFormatter";
      f.refs.push_back({p.id, kRawDatasetType, p.data_id, p.run});
      by_run[p.run].push_back(std::move(f));
    }
    auto txn = reg.transaction();
    if (!filters.empty()) reg.insert_records("physical_filter", filters, registry::Registry::OnConflict::kSkip);
    if (!day_obs.empty()) reg.insert_records("day_obs", day_obs, registry::Registry::OnConflict::kSkip);
    if (!groups.empty()) reg.insert_records("group", groups, registry::Registry::OnConflict::kSkip);
    // kSkip: another ingest running at the same time may have written the same records.
    if (!exposures.empty()) reg.insert_records("exposure", exposures, registry::Registry::OnConflict::kSkip);
    std::size_t n = 0;
    for (const auto& [run, list] : by_run) {
      butler.ingest(list, run, ingest_options);
      n += list.size();
    }
    txn.commit();
    return n;
  };
  std::set<std::size_t> records_failed;  // files whose records the database refused
  std::set<std::string> used_runs = present_runs;  // the summary names the run even when all was there
  auto files_in = [&](std::span<const Planned> batch) {
    return static_cast<std::size_t>(
        std::count_if(batch.begin(), batch.end(), [&](const Planned& p) { return p.index < files.size(); }));
  };
  // Butler::ingest counts the files it places and stops at the next one when cancelled; the
  // batch's transaction then rolls back and its files are removed.
  const LentProgress lent(butler, progress);
  if (progress) progress->start("ingesting", files_in(plan));
  const std::size_t batch_size = std::max<std::size_t>(1, options.batch_size);
  for (std::size_t start = 0; start < plan.size(); start += batch_size) {
    const std::span<const Planned> batch(plan.data() + start, std::min(batch_size, plan.size() - start));
    if (progress) progress->check_cancelled();
    const std::size_t done_before = progress ? progress->state().done : 0;
    try {
      result.ingested += write(batch);
    } catch (const CancelledError&) {
      throw;
    } catch (const std::exception&) {
      // Find the bad files: commit the batch's records alone (else each file's records on
      // their own: a record made from one file's header may be what the database refuses),
      // then each file on its own. Only a failure of the records of no file in particular
      // ends the command. The files placed again one by one are counted once, at the end.
      const std::size_t counted = progress ? progress->state().done - done_before : 0;
      const LentProgress uncounted(butler, nullptr);
      std::vector<Planned> records(batch.begin(), batch.end());
      for (auto& r : records) r.index = files.size();
      try {
        write(records);
      } catch (const std::exception&) {
        for (std::size_t k = 0; k < records.size(); ++k) {
          try {
            write(std::span<const Planned>(&records[k], 1));
          } catch (const std::exception& e) {
            if (batch[k].index >= files.size()) throw;
            records_failed.insert(batch[k].index);
            const auto [code, reason] = failure_of(e, files[batch[k].index]);
            fail(batch[k].index, code, "its dimension records cannot be written: " + reason);
          }
        }
      }
      for (const auto& p : batch) {
        if (p.index >= files.size() || records_failed.count(p.index)) continue;
        if (progress) progress->check_cancelled();
        Planned alone = p;
        alone.exposure.reset(), alone.day_obs.reset(), alone.group.reset(), alone.physical_filter.reset();
        try {
          result.ingested += write(std::span<const Planned>(&alone, 1));
        } catch (const std::exception& e) {
          const auto [code, reason] = failure_of(e, files[p.index]);
          fail(p.index, code, reason);
        }
      }
      if (progress) progress->advance(files_in(batch) - std::min(counted, files_in(batch)));
    }
  }
  if (progress) progress->finish();
  for (const auto& p : plan) {
    if (records_failed.count(p.index)) continue;
    if (p.exposure) ++result.new_exposures;
    if (p.index < files.size()) used_runs.insert(p.run);
  }
  result.runs.assign(used_runs.begin(), used_runs.end());
  std::sort(result.failures.begin(), result.failures.end(),
            [](const RawIngestFailure& a, const RawIngestFailure& b) { return a.file < b.file; });
  return result;
}

UpdateExposuresResult update_exposures_from_raws(butler::Butler& butler, std::string_view instrument,
                                                 const UpdateExposuresOptions& options) {
  auto& reg = butler.registry();
  if (options.where.empty())
    throw InvalidArgumentError("update-exposures-from-raws needs --where selecting the exposures to update (as "
                               "Rubin's: e.g. --where \"exposure.day_obs = 20241125\")");
  const std::string name = registered_instrument_name(reg, instrument);
  butler::DatasetsRequest request;
  request.dataset_types = {kRawDatasetType};
  request.collections = options.collections.empty() ? std::vector<std::string>{default_raw_run(name)}
                                                    : options.collections;
  request.where = options.where;
  request.data_id = {{"instrument", name}};
  // One raw per exposure: its first detector's.
  std::map<std::int64_t, fs::path> files;
  {
    auto found = butler.query_datasets(request);
    while (auto ref = found.next()) {
      const auto exposure = std::get<std::int64_t>(ref->data_id.at("exposure"));
      if (files.count(exposure)) continue;
      const auto stored = reg.stored_files(ref->id);
      if (!stored.empty()) files[exposure] = fs::path(butler.artifact_uri(stored.front()));
    }
  }
  UpdateExposuresResult result;
  result.exposures = files.size();
  std::vector<std::pair<std::int64_t, fs::path>> todo(files.begin(), files.end());
  std::vector<FileMeta> metas(todo.size());
  Executor executor(std::max(1, options.jobs));
  if (options.progress) options.progress->start("reading headers", todo.size());
  const MetadataIndex no_index;
  std::atomic<bool> stop{false};  // --fail-fast: the files not read yet when one fails stay unread
  executor.for_each(todo.size(), [&](std::size_t i) {
    if (stop.load(std::memory_order_relaxed)) return;
    read_one(todo[i].second, no_index, metas[i]);
    if (!metas[i].ok && options.fail_fast) stop = true;
  }, options.progress);
  if (options.progress) options.progress->finish();
  auto fail = [&](std::size_t i, ErrorCode code, std::string reason) {
    if (options.fail_fast)
      throw Error(code, fmt::format("{}: {} (stopped at the first bad file: --fail-fast)", todo[i].second.string(),
                                    reason));
    result.failures.push_back({todo[i].second, code, std::move(reason)});
  };
  const auto& universe = reg.universe();
  auto txn = reg.transaction();
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const auto& meta = metas[i];
    if (!meta.ok) {
      if (!meta.reason.empty()) fail(i, meta.code, meta.reason);
      continue;
    }
    if (meta.values.instrument != name || meta.values.id != todo[i].first) {
      fail(i, ErrorCode::kConflict,
           fmt::format("its header now gives exposure {} of {}, but it is ingested as exposure {} of {}; ingest it "
                       "again instead",
                       meta.values.id, meta.values.instrument, todo[i].first, name));
      continue;
    }
    const auto record = exposure_record_of(universe, meta);
    const auto have = reg.find_record("exposure", {{"instrument", name}, {"exposure", todo[i].first}});
    if (have && have->values() == record.values()) {
      ++result.unchanged;
      continue;
    }
    try {
      auto one = reg.transaction();  // a savepoint: a refused record leaves the others
      // The records a new group or day_obs needs, as ingest writes them.
      const auto& v = meta.values;
      reg.insert_records("group", {make_record(universe.get("group"), {{"instrument", name}, {"name", v.group}})},
                         registry::Registry::OnConflict::kSkip);
      std::map<std::string, FieldValue> d{{"instrument", name}, {"id", std::int64_t{v.day_obs}}};
      if (auto span = day_obs_timespan(v.day_obs, meta.day_offset_s)) d["timespan"] = *span;
      reg.insert_records("day_obs", {make_record(universe.get("day_obs"), d)}, registry::Registry::OnConflict::kSkip);
      reg.sync_record(record, /*update=*/true);
      one.commit();
      ++result.updated;
    } catch (const Error& e) {
      fail(i, e.code(), fmt::format("its new exposure record cannot be written: {}", e.what()));
    }
  }
  txn.commit();
  return result;
}

}  // namespace majordome::instrument
