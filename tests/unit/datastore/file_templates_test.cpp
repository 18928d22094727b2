#include "majordome/core/error.hpp"
#include "majordome/datastore/file_templates.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace majordome::datastore {
namespace {

// A toy universe for lookups by dimensions: each dimension with what it requires or
// implies; the normalised form of a set is its closure.
std::set<std::string> closure(const std::set<std::string>& names) {
  static const std::map<std::string, std::vector<std::string>> kLinks = {
      {"physical_filter", {"instrument", "band"}},
      {"detector", {"instrument"}},
      {"exposure", {"instrument", "physical_filter", "day_obs", "group"}},
      {"visit", {"instrument", "physical_filter", "day_obs"}},
      {"day_obs", {"instrument"}},
      {"group", {"instrument"}},
  };
  std::set<std::string> out;
  std::vector<std::string> todo(names.begin(), names.end());
  while (!todo.empty()) {
    std::string name = todo.back();
    todo.pop_back();
    if (!out.insert(name).second) continue;
    if (auto it = kLinks.find(name); it != kLinks.end()) todo.insert(todo.end(), it->second.begin(), it->second.end());
  }
  return out;
}

constexpr const char* kConfig = R"(
calexp: "{run}/calexp/{visit}"
calexp.wcs: "{run}/wcs/{component}/{visit}"
pvi: "{run}/pvi/{visit}"
StorageClassX: "{run}/sc/{datasetType}/{visit:?}"
instrument+physical_filter: "{run}/dims/{datasetType}/{physical_filter}"
instrument<HSC>:
  pvi: "{run}/hsc/pvi/{visit}"
  physical_filter+instrument: "{run}/hsc/dims/{datasetType}/{physical_filter}"
)";

DatasetTypeInfo info(std::string name, std::string storage_class = "DefaultStorageClass",
                     std::set<std::string> required = {"instrument", "visit"}) {
  DatasetTypeInfo out;
  out.name = std::move(name);
  out.storage_class = std::move(storage_class);
  std::set<std::string> all = closure(required);
  for (const auto& n : all) (required.count(n) != 0 ? out.required_dimensions : out.implied_dimensions).insert(n);
  return out;
}

std::string text_of(const FileTemplates& t, const DatasetTypeInfo& d, std::optional<std::string_view> inst = {}) {
  return t.get(d, inst).text();
}

TEST(FileTemplates, LookupOrder) {
  auto t = FileTemplates::from_yaml_text(kConfig, closure);
  EXPECT_EQ(text_of(t, info("calexp")), "{run}/calexp/{visit}");
  // No default in this configuration.
  EXPECT_FALSE(t.find(info("unknown")));
  EXPECT_THROW(t.get(info("unknown")), NotFoundError);
  // Storage class when the name does not match.
  EXPECT_EQ(text_of(t, info("unknown2", "StorageClassX")), "{run}/sc/{datasetType}/{visit:?}");
  // Components: the full name first, then the parent's.
  EXPECT_EQ(text_of(t, info("calexp.wcs")), "{run}/wcs/{component}/{visit}");
  EXPECT_EQ(text_of(t, info("calexp.image")), "{run}/calexp/{visit}");
  // Dimensions come before the storage class.
  auto dims = info("nomatch", "StorageClassX", {"instrument", "physical_filter"});
  auto match = t.find(dims);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->key, "instrument+physical_filter");
  EXPECT_EQ(match->file_template->text(), "{run}/dims/{datasetType}/{physical_filter}");
}

TEST(FileTemplates, InstrumentOverrides) {
  auto t = FileTemplates::from_yaml_text(kConfig, closure);
  auto pvi = info("pvi", "StorageClassX", {"instrument", "physical_filter"});
  EXPECT_EQ(text_of(t, pvi), "{run}/pvi/{visit}");
  EXPECT_EQ(text_of(t, pvi, "LSST"), "{run}/pvi/{visit}");
  auto hsc = t.find(pvi, "HSC");
  ASSERT_TRUE(hsc);
  EXPECT_EQ(hsc->key, "instrument<HSC>:pvi");
  EXPECT_EQ(hsc->file_template->text(), "{run}/hsc/pvi/{visit}");
  // Every key of the override is tried before any generic key.
  auto pvix = info("pvix", "StorageClassX", {"instrument", "physical_filter"});
  EXPECT_EQ(text_of(t, pvix, "HSC"), "{run}/hsc/dims/{datasetType}/{physical_filter}");
  EXPECT_EQ(text_of(t, pvix), "{run}/dims/{datasetType}/{physical_filter}");
  // The override's name match beats the generic one.
  EXPECT_EQ(text_of(t, info("pvi"), "HSC"), "{run}/hsc/pvi/{visit}");
}

TEST(FileTemplates, Defaults) {
  auto with_default = FileTemplates::from_yaml_text(std::string(kConfig) + "default: \"{run}/{datasetType}/{id}\"\n");
  EXPECT_EQ(text_of(with_default, info("unknown")), "{run}/{datasetType}/{id}");
  EXPECT_EQ(with_default.find(info("unknown"))->key, "default");

  auto fallback = FileTemplates::from_yaml_text(kConfig, {}, "{run}/{datasetType}/{physical_filter}");
  EXPECT_EQ(text_of(fallback, info("unknown")), "{run}/{datasetType}/{physical_filter}");

  for (const char* disabled : {"default: false\n", "default: \"\"\n", "default: null\n"}) {
    auto off = FileTemplates::from_yaml_text(std::string(kConfig) + disabled, {}, "{run}/{datasetType}/{visit}");
    EXPECT_FALSE(off.find(info("unknown"))) << disabled;
    EXPECT_FALSE(off.default_template()) << disabled;
  }
  EXPECT_THROW(FileTemplates::from_yaml_text("default: true\n"), InvalidConfigError);
}

TEST(FileTemplates, ConfigurationErrors) {
  auto message_of = [](const std::string& yaml) {
    try {
      FileTemplates::from_yaml_text(yaml);
    } catch (const InvalidConfigError& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted: " << yaml;
    return std::string();
  };
  EXPECT_NE(message_of("calexp: \"{run}/{visit\"\n").find("'calexp'"), std::string::npos);
  EXPECT_NE(message_of("calexp: \"{visit}\"\n").find("'run' or 'id'"), std::string::npos);
  EXPECT_NE(message_of("a+b: \"{run}/{a}\"\nb+a: \"{run}/{b}\"\n").find("twice"), std::string::npos);
  EXPECT_NE(message_of("physical_filter<HSC-R>:\n  calexp: \"{run}/{visit}\"\n").find("instrument<Name>"),
            std::string::npos);
  EXPECT_NE(message_of("calexp:\n  - \"{run}/{visit}\"\n").find("template string"), std::string::npos);
  EXPECT_NE(message_of("calexp: [unclosed\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(message_of("- a\n- b\n").find("mapping"), std::string::npos);
}

TEST(FileTemplates, RubinDefaultsPickTheRawTemplateByDimensions) {
  auto t = FileTemplates::rubin_defaults(closure);
  auto raw = info("raw", "Exposure", {"instrument", "detector", "exposure"});
  auto match = t.find(raw, "LATISS");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->key, kRawTemplateKey);
  EXPECT_EQ(match->file_template->text(), kRawTemplate);
  EXPECT_EQ(text_of(t, info("calexp", "ExposureF", {"instrument", "detector", "visit"})), kDefaultTemplate);
}

TEST(FileTemplates, AddReplacesAndValidateListsEveryFailure) {
  FileTemplates t(FileTemplate::parse("{run}/{datasetType}/{id}"));
  t.add("calexp", FileTemplate::parse("{run}/a/{visit}"));
  t.add("calexp", FileTemplate::parse("{run}/b/{instrument}/{visit}"));
  EXPECT_EQ(text_of(t, info("calexp")), "{run}/b/{instrument}/{visit}");
  t.add("default", FileTemplate::parse("{run}/{datasetType}/{instrument}_{visit:?}_{detector:?}"));

  std::vector<DatasetTypeInfo> good{info("calexp"), info("other", "X", {"instrument", "detector"})};
  t.validate(good);

  std::vector<DatasetTypeInfo> bad{info("calexp", "X", {"instrument", "visit", "detector"}),
                                   info("other", "X", {"instrument", "exposure"})};
  try {
    t.validate(bad);
    FAIL() << "expected InvalidConfigError";
  } catch (const InvalidConfigError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("2 file template validation failures"), std::string::npos) << message;
    EXPECT_NE(message.find("via key 'calexp'"), std::string::npos) << message;
    EXPECT_NE(message.find("via key 'default'"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace majordome::datastore
