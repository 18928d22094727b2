// The SkyMap storage class through Butler::put / get on SQLite and PostgreSQL: get() rebuilds
// the same skymap (config, hash, tracts), and the file is stable, versioned YAML.
#include "majordome/skymap/formatters.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "butler_repo_fixture.hpp"
#include "majordome/core/error.hpp"
#include "majordome/skymap/skymap.hpp"

namespace majordome::skymap {
namespace {

namespace fs = std::filesystem;
using majordome::testing::Backend;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SkyMapFormatterTest : public majordome::testing::ButlerRepoTest {
 protected:
  std::unique_ptr<butler::Butler> open_with_types() {
    auto formatters = std::make_shared<datastore::FormatterRegistry>();
    datastore::add_basic_formatters(*formatters);
    add_formatters(*formatters);
    auto b = open(formatters);
    auto& r = b->registry();
    r.register_dataset_type({"skyMap", r.universe().group({}), "SkyMap", false});
    return b;
  }
};

TEST_P(SkyMapFormatterTest, GetRebuildsTheSameSkyMap) {
  auto b = open_with_types();
  for (const char* name : {"ci_hsc.yaml", "lsst_cells_v1.yaml", "hsc_rings_v1.yaml"}) {
    const SkyMap skymap(SkyMapConfig::from_file(fs::path(MAJORDOME_SOURCE_DIR) / "data" / "skymaps" / name));
    const std::string run = std::string("run_") + name;
    auto ref = b->put(skymap, "skyMap", {}, run.substr(0, run.size() - 5));
    const SkyMap back = b->get_as<SkyMap>(ref);
    EXPECT_EQ(back.config(), skymap.config()) << name;
    EXPECT_EQ(back.config().sha1(), skymap.config().sha1()) << name;
    ASSERT_EQ(back.size(), skymap.size()) << name;
    const int last = skymap.size() - 1;
    EXPECT_EQ(back.tract(last).bbox(), skymap.tract(last).bbox());
    EXPECT_EQ(back.tract(last).patch(0).outer_bbox, skymap.tract(last).patch(0).outer_bbox);
    const fs::path file = b->get_uri(ref).substr(7);
    EXPECT_EQ(file.extension(), ".yaml");
    const std::string text = read_text(file);
    EXPECT_EQ(text.rfind("# majordome SkyMap, format version 1\n", 0), 0u) << text;
    EXPECT_EQ(text, read_text(b->get_uri(b->put(skymap, "skyMap", {}, run.substr(0, run.size() - 5) + "_again")).substr(7)));
  }
}

TEST_P(SkyMapFormatterTest, RefusesFilesItDidNotWrite) {
  auto b = open_with_types();
  SkyMapConfig c;
  c.name = "one";
  c.kind = SkyMapKind::kDiscrete;
  c.ra_list_deg = {10.0};
  c.dec_list_deg = {-5.0};
  c.radius_list_deg = {0.5};
  auto ref = b->put(SkyMap(c), "skyMap", {}, "run");
  EXPECT_EQ(b->get_as<SkyMap>(ref).config(), c);
  const fs::path file = b->get_uri(ref).substr(7);
  std::ofstream(file, std::ios::trunc) << "# majordome SkyMap, format version 2\nname: one\n";
  EXPECT_THROW(b->get_as<SkyMap>(ref), CorruptFileError);
  std::ofstream(file, std::ios::trunc) << "name: one\nskyMap: discrete\n";  // no version line
  EXPECT_THROW(b->get_as<SkyMap>(ref), CorruptFileError);
}

INSTANTIATE_TEST_SUITE_P(Backends, SkyMapFormatterTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         majordome::testing::backend_name);

}  // namespace
}  // namespace majordome::skymap
