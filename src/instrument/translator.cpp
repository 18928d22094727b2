// The translator registry, translate() and the header fix-up mechanism.
#include "majordome/instrument/translator.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "header_yaml.hpp"
#include "majordome/core/error.hpp"
#include "majordome/instrument/header_source.hpp"
#include "translator_impl.hpp"

namespace majordome::instrument {

using detail::MissingKeys;
using detail::Registration;

namespace {

const std::vector<Registration>& registry() {
  static const std::vector<Registration> all = [] {
    auto v = detail::lsst_translators();
    for (auto& r : detail::teststand_translators()) v.push_back(std::move(r));
    for (auto& r : detail::other_translators()) v.push_back(std::move(r));
    return v;
  }();
  return all;
}

const Registration& by_name(const std::string& name) {
  for (const auto& r : registry())
    if (detail::lower(r.name) == detail::lower(name)) return r;
  std::string names;
  for (const auto& r : registry()) names += (names.empty() ? "" : ", ") + r.name;
  throw NotFoundError(fmt::format("no header translator named '{}' (known: {})", name, names));
}

const Registration* detect(const image::Header& h) {
  for (const auto& r : registry())
    if (r.auto_detect && r.can_translate(h)) return &r;
  return nullptr;
}

std::filesystem::path default_corrections_root() {
  if (const char* env = std::getenv("MAJORDOME_DATA_DIR"); env && *env)
    return std::filesystem::path(env) / "instruments" / "corrections";
  return std::filesystem::path(MAJORDOME_DATA_DIR) / "instruments" / "corrections";
}

std::string label(const std::string& source) { return source.empty() ? "header" : source; }

constexpr const char* kFixFile = "ASTRO METADATA FIX FILE";
constexpr const char* kFixDate = "ASTRO METADATA FIX DATE";
constexpr const char* kFixVersion = "ASTRO METADATA FIX VERSION";

}  // namespace

std::vector<std::string> translator_names() {
  std::vector<std::string> names;
  for (const auto& r : registry()) names.push_back(r.name);
  return names;
}

std::optional<std::string> find_translator(const image::Header& header) {
  if (auto* r = detect(header)) return r->name;
  return std::nullopt;
}

std::string get_translator(const image::Header& header, const std::string& source) {
  if (auto* r = detect(header)) return r->name;
  std::string seen;
  for (auto key : {"INSTRUME", "TELESCOP", "TELCODE", "TESTTYPE", "CREATOR", "ORIGIN", "EXP-ID", "DETNAME"}) {
    auto v = detail::header_str(header, key);
    seen += fmt::format("{}{}={}", seen.empty() ? "" : ", ", key, v ? "'" + *v + "'" : "(absent)");
  }
  throw NotFoundError(fmt::format(
      "{}: no header translator recognises this header ({}); known translators: {}; force one "
      "with --translator NAME if you know the instrument",
      label(source), seen, fmt::join(translator_names(), ", ")));
}

FixHeaderResult fix_header(image::Header& header, const FixHeaderOptions& options) {
  FixHeaderResult result;
  const Registration* reg = options.translator.empty() ? detect(header) : &by_name(options.translator);
  if (reg == nullptr) return result;
  if (header.contains(kFixDate)) {  // already fixed: leave it as it is
    result.modified = true;
    return result;
  }
  std::optional<std::string> instrument, obsid;
  try {
    auto t = reg->make(header);
    instrument = t->instrument();
    obsid = t->observation_id();
  } catch (const std::exception&) {
    // Without an instrument and observation id no correction file can be named.
  }
  std::vector<std::filesystem::path> dirs = options.search_path;
  if (options.default_search_path && !reg->corrections_dir.empty())
    dirs.push_back(default_corrections_root() / reg->corrections_dir);
  if (instrument && obsid) {
    std::string file_name = fmt::format("{}-{}.yaml", *instrument, *obsid);
    for (const auto& dir : dirs) {
      auto path = dir / file_name;
      if (!std::filesystem::exists(path)) continue;
      YAML::Node doc;
      try {
        doc = YAML::LoadFile(path.string());
      } catch (const YAML::Exception& e) {
        result.warnings.push_back(fmt::format("{}: not valid YAML ({}); ignored", path.string(), e.what()));
        continue;
      }
      if (!doc.IsMap()) {
        result.warnings.push_back(
            fmt::format("{}: a correction file must be a YAML mapping KEY: value; ignored", path.string()));
        continue;
      }
      for (const auto& kv : doc) header.set(kv.first.as<std::string>(), detail::yaml_scalar(kv.second));
      result.modified = true;
      result.correction_file = path;
      break;
    }
  }
  if (options.builtin_fixes && reg->fix) result.modified |= reg->fix(header);
  if (result.modified) {
    if (result.correction_file) header.set(kFixFile, result.correction_file->string());
    header.set(kFixDate, TaiTime::now().utc_iso(3));
    header.set(kFixVersion, "majordome-translate 1");
  }
  return result;
}

ObservationInfo translate(const image::Header& input, const TranslateOptions& options) {
  const std::string where = label(options.source);
  const Registration& reg =
      options.translator.empty() ? by_name(get_translator(input, options.source)) : by_name(options.translator);
  image::Header header = input;
  if (options.fix_header) {
    FixHeaderOptions fix;
    fix.translator = reg.name;
    fix.search_path = options.correction_search_path;
    fix.source = options.source;
    fix_header(header, fix);
  }
  auto t = reg.make(header);
  ObservationInfo info;
  info.translator = reg.name;
  bool pedantic = options.mode == TranslationMode::kPedantic;
  auto get = [&](const char* name, auto& field, auto method) {
    try {
      field = ((*t).*method)();
    } catch (const MissingKeys& e) {
      if (pedantic)
        throw NotFoundError(fmt::format("{}: {} cannot translate {}: {} (keywords: {})", where, reg.name,
                                        name, e.what(), fmt::join(e.keys, ", ")));
      info.failures[name] = e.keys;
    } catch (const InvalidConfigError&) {
      throw;  // majordome's own data files (a detector table) are broken: no header can be translated
    } catch (const std::exception& e) {
      if (pedantic)
        throw InvalidArgumentError(fmt::format("{}: {} cannot translate {}: {}", where, reg.name, name, e.what()));
      info.failures[name] = {};
    }
  };
  using T = detail::Translator;
  get("instrument", info.instrument, &T::instrument);
  get("telescope", info.telescope, &T::telescope);
  get("location", info.location, &T::location);
  get("exposure_id", info.exposure_id, &T::exposure_id);
  get("visit_id", info.visit_id, &T::visit_id);
  get("physical_filter", info.physical_filter, &T::physical_filter);
  get("datetime_begin", info.datetime_begin, &T::datetime_begin);
  get("datetime_end", info.datetime_end, &T::datetime_end);
  get("exposure_time", info.exposure_time_s, &T::exposure_time);
  get("exposure_time_requested", info.exposure_time_requested_s, &T::exposure_time_requested);
  get("dark_time", info.dark_time_s, &T::dark_time);
  get("boresight_airmass", info.boresight_airmass, &T::boresight_airmass);
  get("boresight_rotation_angle", info.boresight_rotation_angle_deg, &T::boresight_rotation_angle);
  get("boresight_rotation_coord", info.boresight_rotation_coord, &T::boresight_rotation_coord);
  get("detector_num", info.detector_num, &T::detector_num);
  get("detector_name", info.detector_name, &T::detector_name);
  get("detector_unique_name", info.detector_unique_name, &T::detector_unique_name);
  get("detector_serial", info.detector_serial, &T::detector_serial);
  get("detector_group", info.detector_group, &T::detector_group);
  get("detector_exposure_id", info.detector_exposure_id, &T::detector_exposure_id);
  get("focus_z", info.focus_z_mm, &T::focus_z);
  get("object", info.object, &T::object);
  get("temperature", info.temperature_degC, &T::temperature);
  get("pressure", info.pressure_Pa, &T::pressure);
  get("relative_humidity", info.relative_humidity, &T::relative_humidity);
  get("tracking_radec", info.tracking_radec, &T::tracking_radec);
  get("altaz_begin", info.altaz_begin, &T::altaz_begin);
  get("science_program", info.science_program, &T::science_program);
  get("observation_type", info.observation_type, &T::observation_type);
  get("observation_id", info.observation_id, &T::observation_id);
  get("observation_reason", info.observation_reason, &T::observation_reason);
  get("exposure_group", info.exposure_group, &T::exposure_group);
  get("observing_day", info.observing_day, &T::observing_day);
  get("observing_day_offset", info.observing_day_offset_s, &T::observing_day_offset);
  get("observation_counter", info.observation_counter, &T::observation_counter);
  get("group_counter_start", info.group_counter_start, &T::group_counter_start);
  get("group_counter_end", info.group_counter_end, &T::group_counter_end);
  get("has_simulated_content", info.has_simulated_content, &T::has_simulated_content);
  get("can_see_sky", info.can_see_sky, &T::can_see_sky);
  for (auto* v : {&info.boresight_rotation_angle_deg, &info.temperature_degC, &info.pressure_Pa,
                  &info.relative_humidity, &info.boresight_airmass})
    if (*v && std::isnan(**v)) v->reset();
  return info;
}

ObservationInfo translate_file(const std::filesystem::path& path, TranslateOptions options) {
  if (options.source.empty()) options.source = path.string();
  return translate(read_header_file(path), options);
}

}  // namespace majordome::instrument
