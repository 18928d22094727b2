// Data-driven conformance test: every header file listed in the shared
// headers/expected.yaml is translated and every listed property compared (floats to 7
// decimal places in the stated unit, as the upstream tests do). Skipped when the shared
// data folder is absent.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "majordome/core/error.hpp"
#include "majordome/instrument/header_source.hpp"
#include "majordome/instrument/translator.hpp"

namespace mi = majordome::instrument;
namespace fs = std::filesystem;

namespace {

fs::path headers_dir() { return fs::path(MAJORDOME_SHARED_DATA) / "headers"; }

#define REQUIRE_HEADERS()                                                                   \
  do {                                                                                      \
    if (!fs::exists(headers_dir() / "expected.yaml"))                                       \
      GTEST_SKIP() << "shared data not found at " << headers_dir()                          \
                   << " (a fresh clone has no ../shared); conformance test skipped";        \
  } while (0)

// Converts our canonical value (JSON key, unit) into the unit of an expected.yaml key.
struct Quantity {
  std::string key;  // our JSON key
  double scale;     // expected = ours * scale + shift
  double shift;
};
std::optional<Quantity> quantity_for(const std::string& expected_key) {
  static const std::map<std::string, Quantity> kMap = {
      {"exposure_time_s", {"exposure_time_s", 1, 0}},
      {"exposure_time_requested_s", {"exposure_time_requested_s", 1, 0}},
      {"dark_time_s", {"dark_time_s", 1, 0}},
      {"observing_day_offset_s", {"observing_day_offset_s", 1, 0}},
      {"boresight_rotation_angle_deg", {"boresight_rotation_angle_deg", 1, 0}},
      {"focus_z_mm", {"focus_z_mm", 1, 0}},
      {"focus_z_um", {"focus_z_mm", 1000, 0}},
      {"pressure_Pa", {"pressure_Pa", 1, 0}},
      {"pressure_hPa", {"pressure_Pa", 0.01, 0}},
      {"pressure_mmHg", {"pressure_Pa", 1 / 133.322387415, 0}},
      {"temperature_degC", {"temperature_degC", 1, 0}},
      {"temperature_K", {"temperature_degC", 1, 273.15}},
  };
  auto it = kMap.find(expected_key);
  if (it == kMap.end()) return std::nullopt;
  return it->second;
}

// Plain names of quantities whose expected value is null.
std::string null_key(const std::string& key) {
  static const std::map<std::string, std::string> kMap = {
      {"pressure", "pressure_Pa"}, {"temperature", "temperature_degC"},
      {"observing_day_offset", "observing_day_offset_s"}, {"focus_z", "focus_z_mm"}};
  auto it = kMap.find(key);
  return it == kMap.end() ? key : it->second;
}

void compare(const std::string& file, const std::string& key, const YAML::Node& expected,
             const nlohmann::json& ours) {
  SCOPED_TRACE(file + " :: " + key);
  if (auto q = quantity_for(key)) {
    ASSERT_TRUE(ours.contains(q->key)) << "no property " << q->key;
    const auto& v = ours[q->key];
    if (expected.IsNull()) {
      EXPECT_TRUE(v.is_null()) << "expected no value, got " << v;
      return;
    }
    ASSERT_TRUE(v.is_number()) << "expected " << expected.as<double>() << ", got " << v;
    double got = v.get<double>() * q->scale + q->shift;
    EXPECT_LT(std::fabs(got - expected.as<double>()), 5e-8) << "expected " << expected.as<double>() << ", got " << got;
    return;
  }
  std::string our_key = expected.IsNull() ? null_key(key) : key;
  ASSERT_TRUE(ours.contains(our_key)) << "no property " << our_key;
  const auto& v = ours[our_key];
  if (expected.IsNull()) {
    EXPECT_TRUE(v.is_null()) << "expected no value, got " << v;
    return;
  }
  const std::string& text = expected.Scalar();
  if (expected.Tag() == "!") {  // quoted: a string
    EXPECT_EQ(v, nlohmann::json(text));
    return;
  }
  if (text == "true" || text == "false") {
    EXPECT_EQ(v, nlohmann::json(text == "true"));
  } else if (text.find_first_of(".eE") != std::string::npos) {
    ASSERT_TRUE(v.is_number()) << "expected " << text << ", got " << v;
    EXPECT_LT(std::fabs(v.get<double>() - expected.as<double>()), 5e-8) << "expected " << text << ", got " << v;
  } else {
    EXPECT_EQ(v, nlohmann::json(expected.as<long long>())) << "expected " << text;
  }
}

}  // namespace

TEST(TranslatorExpected, EveryListedHeaderTranslatesToTheExpectedValues) {
  REQUIRE_HEADERS();
  YAML::Node expected = YAML::LoadFile((headers_dir() / "expected.yaml").string());
  int checked_files = 0, checked_values = 0;
  for (const auto& entry : expected) {
    std::string file = entry.first.as<std::string>();
    const YAML::Node& props = entry.second;
    SCOPED_TRACE(file);
    fs::path path = headers_dir() / file;
    mi::TranslateOptions options;
    options.source = path.string();
    if (props["_translator_forced"] && props["_translator_forced"].as<bool>())
      options.translator = props["_translator_name"].as<std::string>();
    if (props["_expect_error"]) {
      options.mode = mi::TranslationMode::kPedantic;
      EXPECT_THROW(mi::translate_file(path, options), majordome::NotFoundError);
      ++checked_files;
      continue;
    }
    mi::ObservationInfo info;
    ASSERT_NO_THROW(info = mi::translate_file(path, options));
    EXPECT_EQ(info.translator, props["_translator_name"].as<std::string>());
    if (props["_pedantic_translation_ok"]) {
      options.mode = mi::TranslationMode::kPedantic;
      EXPECT_NO_THROW(mi::translate_file(path, options));
    }
    auto ours = nlohmann::json::parse(mi::to_json(info));
    for (const auto& kv : props) {
      std::string key = kv.first.as<std::string>();
      if (key.starts_with("_")) continue;
      compare(file, key, kv.second, ours);
      ++checked_values;
    }
    if (info.datetime_begin && info.datetime_end) {
      EXPECT_LE(*info.datetime_begin, *info.datetime_end);
      if (info.exposure_time_s && *info.exposure_time_s > 0) {
        EXPECT_LE(info.datetime_begin->ns() + std::llround(*info.exposure_time_s * 1e9) - 1000,
                  info.datetime_end->ns());
      }
    }
    if (props["_checks"] && props["_checks"]["check_altaz"] && props["_checks"]["check_altaz"].as<bool>()) {
      EXPECT_TRUE(info.altaz_begin.has_value()) << "check_altaz: altaz_begin must be defined";
    }
    ++checked_files;
  }
  EXPECT_GE(checked_files, 62);
  std::cout << "[ CHECKED   ] " << checked_files << " files, " << checked_values << " property values\n";
}

TEST(TranslatorExpected, HscMatchesTheUpstreamTranslatedSidecar) {
  REQUIRE_HEADERS();
  auto info = mi::translate_file(headers_dir() / "astro_metadata_translator/fitsheader-hsc.yaml");
  ASSERT_TRUE(info.datetime_begin && info.datetime_end);
  EXPECT_EQ(info.datetime_begin->tai_iso(6, 'T'), "2013-11-02T06:16:30.908000");
  EXPECT_EQ(info.datetime_end->tai_iso(6, 'T'), "2013-11-02T06:17:02.928000");
  EXPECT_NEAR(*info.boresight_airmass, 1.121626027604189, 1e-9);
  EXPECT_NEAR(*info.boresight_rotation_angle_deg, 270.0, 1e-9);
  ASSERT_TRUE(info.tracking_radec);
  EXPECT_NEAR(info.tracking_radec->ra_deg, 320.74992499999996, 1e-9);
  EXPECT_NEAR(info.tracking_radec->dec_deg, 0.5000194444444445, 1e-9);
  ASSERT_TRUE(info.altaz_begin);
  EXPECT_NEAR(info.altaz_begin->az_deg, 226.68922661, 1e-6);
  EXPECT_NEAR(info.altaz_begin->alt_deg, 63.04359233, 1e-6);
  ASSERT_TRUE(info.location);
  EXPECT_NEAR(info.location->x_m, -5464492.282102364, 1e-3);
  EXPECT_NEAR(info.location->y_m, -2493000.6266314997, 1e-3);
  EXPECT_NEAR(info.location->z_m, 2150943.6513960036, 1e-3);
  EXPECT_EQ(info.detector_group, "1");
}

TEST(TranslatorExpected, HeaderFixUpsGiveTheExpectedValues) {
  REQUIRE_HEADERS();
  YAML::Node expected = YAML::LoadFile((headers_dir() / "expected.yaml").string());
  int n = 0;
  for (const auto& entry : expected) {
    const YAML::Node& fix = entry.second["_fix_header"];
    if (!fix) continue;
    std::string file = entry.first.as<std::string>();
    SCOPED_TRACE(file);
    auto header = mi::read_header_file(headers_dir() / file);
    auto result = mi::fix_header(header);
    EXPECT_EQ(result.modified, fix["modified"].as<bool>());
    for (const auto& kv : fix) {
      std::string key = kv.first.as<std::string>();
      if (key == "modified") continue;
      if (kv.second.Tag() == "!") {
        EXPECT_EQ(header.find_string(key), kv.second.as<std::string>()) << key;
      } else {
        ASSERT_TRUE(header.find_double(key)) << key;
        EXPECT_NEAR(*header.find_double(key), kv.second.as<double>(), 1e-9) << key;
      }
    }
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(TranslatorExpected, CorrectionFileMechanismFollowsExpectedMisc) {
  REQUIRE_HEADERS();
  auto decam = headers_dir() / "astro_metadata_translator/fitsheader-decam-0160496.yaml";
  {
    auto h = mi::read_header_file(decam);
    mi::FixHeaderOptions o;
    o.builtin_fixes = false;
    EXPECT_FALSE(mi::fix_header(h, o).modified);
  }
  {
    auto h = mi::read_header_file(decam);
    mi::FixHeaderOptions o;
    o.builtin_fixes = false;
    o.search_path = {headers_dir() / "astro_metadata_translator/corrections"};
    auto r = mi::fix_header(h, o);
    EXPECT_TRUE(r.modified);
    EXPECT_EQ(h.find_string("DETECTOR"), "NEW-ID");
    ASSERT_TRUE(r.correction_file);
    EXPECT_EQ(h.find_string("ASTRO METADATA FIX FILE"), r.correction_file->string());
    EXPECT_TRUE(h.contains("ASTRO METADATA FIX DATE"));
    // Fixing again changes nothing, still reports a modification, keeps the date.
    auto date = h.find_string("ASTRO METADATA FIX DATE");
    auto again = mi::fix_header(h, o);
    EXPECT_TRUE(again.modified);
    EXPECT_EQ(h.find_string("ASTRO METADATA FIX DATE"), date);
  }
  {
    auto h = mi::read_header_file(decam);
    mi::FixHeaderOptions o;
    o.builtin_fixes = false;
    o.search_path = {headers_dir() / "astro_metadata_translator/bad_corrections"};
    auto r = mi::fix_header(h, o);
    EXPECT_FALSE(r.modified);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].find("mapping"), std::string::npos);
  }
  {
    auto h = mi::read_header_file(decam);
    EXPECT_TRUE(mi::fix_header(h).modified);
    EXPECT_EQ(h.find_string("FILTER"), "solid plate 0.0 0.0");
  }
  {
    auto h = mi::read_header_file(headers_dir() / "astro_metadata_translator/corrections/SCUBA_test-20000101_00002.yaml");
    EXPECT_FALSE(mi::fix_header(h).modified);  // no translator recognises it
  }
  // Our own correction file for HSC (forced translator: INSTRUME "HSC" is not auto-detected).
  for (auto [exp_id, modified, after] : {std::tuple{"HSCA00120800", true, "OBJECT"},
                                         std::tuple{"HSCA00120800X", false, "FLAT"}}) {
    majordome::image::Header h;
    h.set("EXP-ID", exp_id);
    h.set("INSTRUME", "HSC");
    h.set("DATA-TYP", "FLAT");
    mi::FixHeaderOptions o;
    o.translator = "HSC";
    auto r = mi::fix_header(h, o);
    EXPECT_EQ(r.modified, modified) << exp_id;
    EXPECT_EQ(h.find_string("DATA-TYP"), after) << exp_id;
    if (modified) {
      auto file = h.find_string("ASTRO METADATA FIX FILE");
      ASSERT_TRUE(file);
      EXPECT_TRUE(file->ends_with("HSC-HSCA00120800.yaml")) << *file;
    }
  }
}
