#include "majordome/skymap/register_skymap.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "majordome/core/error.hpp"
#include "majordome/registry/database.hpp"
#include "cancelling_progress.hpp"

namespace majordome::skymap {
namespace {

class RegisterSkyMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("majordome-skymap-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    registry_ = registry::Registry::create(registry::open_sqlite((dir_ / "gen3.sqlite3").string(), true),
                                           dimensions::Universe::make_default());
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<registry::Registry> registry_;
};

// Three small tracts of 5×5 patches (small areas keep the htm7 overlap rows few).
SkyMapConfig small_skymap(const std::string& name, double pixel_scale = 0.2) {
  SkyMapConfig c;
  c.name = name;
  c.kind = SkyMapKind::kDiscrete;
  c.ra_list_deg = {10.0, 10.3, 250.0};
  c.dec_list_deg = {0.0, 0.1, -60.0};
  c.radius_list_deg = {0.1, 0.1, 0.1};
  c.projection = "TAN";
  c.pixel_scale_arcsec = pixel_scale;
  c.tract_overlap_deg = 0.0;
  c.patch_inner_dimensions = {800, 800};
  c.patch_border = 50;
  return c;
}

TEST_F(RegisterSkyMapTest, WritesSkymapTractAndPatchRecords) {
  const SkyMap sky(small_skymap("small"));
  const auto result = register_skymap(*registry_, sky);
  EXPECT_TRUE(result.inserted);
  EXPECT_EQ(result.tracts, sky.size());

  const auto skymaps = registry_->query_records("skymap");
  ASSERT_EQ(skymaps.size(), 1U);
  EXPECT_EQ(std::get<std::string>(skymaps[0].get("name")), "small");
  EXPECT_EQ(std::get<std::int64_t>(skymaps[0].get("tract_max")), sky.size());
  const auto [nx, ny] = sky.max_patches();
  EXPECT_EQ(std::get<std::int64_t>(skymaps[0].get("patch_nx_max")), nx);
  EXPECT_EQ(std::get<std::int64_t>(skymaps[0].get("patch_ny_max")), ny);
  const auto h = sky.config().sha1();
  EXPECT_EQ(std::get<dimensions::Bytes>(skymaps[0].get("hash")).data, std::vector<std::uint8_t>(h.begin(), h.end()));

  const auto tracts = registry_->query_records("tract", {{"skymap", std::string("small")}});
  ASSERT_EQ(tracts.size(), static_cast<std::size_t>(sky.size()));
  const auto patches = registry_->query_records("patch", {{"skymap", std::string("small")}});
  EXPECT_EQ(static_cast<std::int64_t>(patches.size()), result.patches);
  // Stored regions are the computed polygons, byte for byte.
  for (const auto& record : tracts) {
    const auto id = std::get<std::int64_t>(record.get("id"));
    EXPECT_EQ(std::get<dimensions::Bytes>(record.get("region")).data,
              sky.tract(static_cast<int>(id)).outer_polygon().encode());
  }
  for (const auto& record : patches) {
    const TractInfo t = sky.tract(static_cast<int>(std::get<std::int64_t>(record.get("tract"))));
    const PatchInfo p = t.patch(std::get<std::int64_t>(record.get("id")));
    EXPECT_EQ(std::get<std::int64_t>(record.get("cell_x")), p.x);
    EXPECT_EQ(std::get<std::int64_t>(record.get("cell_y")), p.y);
    EXPECT_EQ(std::get<dimensions::Bytes>(record.get("region")).data, t.patch_polygon(p).encode());
  }
}

TEST_F(RegisterSkyMapTest, SameSkymapAgainIsANoOp) {
  const SkyMap sky(small_skymap("small"));
  ASSERT_TRUE(register_skymap(*registry_, sky).inserted);
  const auto again = register_skymap(*registry_, sky);
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(registry_->query_records("tract").size(), static_cast<std::size_t>(sky.size()));
}

TEST_F(RegisterSkyMapTest, DifferentDefinitionUnderTheSameNameIsAConflict) {
  ASSERT_TRUE(register_skymap(*registry_, SkyMap(small_skymap("small"))).inserted);
  try {
    register_skymap(*registry_, SkyMap(small_skymap("small", 0.3)));
    FAIL() << "expected ConflictError";
  } catch (const ConflictError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'small' is already registered with a different definition"), std::string::npos) << m;
    EXPECT_NE(m.find("new name"), std::string::npos) << m;
  }
  // Nothing of the refused skymap was written; another name works.
  EXPECT_EQ(registry_->query_records("skymap").size(), 1U);
  EXPECT_TRUE(register_skymap(*registry_, SkyMap(small_skymap("small_v2", 0.3))).inserted);
  EXPECT_EQ(registry_->query_records("skymap").size(), 2U);
}

TEST_F(RegisterSkyMapTest, ProgressIsReportedAndCancelWritesNothing) {
  const SkyMap sky(small_skymap("small"));
  ASSERT_GT(sky.size(), 2);
  testing::CancellingProgress cancelling("registering tracts", 2);
  EXPECT_THROW(register_skymap(*registry_, sky, &cancelling), CancelledError);
  EXPECT_EQ(cancelling.state().done, 2u);
  EXPECT_TRUE(registry_->query_records("skymap").empty());
  EXPECT_TRUE(registry_->query_records("tract").empty());

  testing::CancellingProgress progress("never", 0);
  EXPECT_TRUE(register_skymap(*registry_, sky, &progress).inserted);
  EXPECT_EQ(progress.phases, std::vector<std::string>{"registering tracts"});
  EXPECT_EQ(progress.state().done, static_cast<std::size_t>(sky.size()));
  EXPECT_EQ(progress.state().total, static_cast<std::size_t>(sky.size()));
}

}  // namespace
}  // namespace majordome::skymap
