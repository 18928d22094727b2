#include "majordome/skymap/skymap.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>
#include <numeric>

#include "majordome/core/error.hpp"
#include "majordome/sphere/codec.hpp"
#include "majordome/sphere/convex_polygon.hpp"

namespace majordome::skymap {
namespace {

std::filesystem::path registry_data() {
  return std::filesystem::path(MAJORDOME_SHARED_DATA) / "registry" / "daf_butler";
}

std::filesystem::path shipped(const std::string& name) {
  return std::filesystem::path(MAJORDOME_SOURCE_DIR) / "data" / "skymaps" / name;
}

// The largest angle (radians) between vertex i of `a` and vertex i of `b`.
double max_vertex_distance(const sphere::ConvexPolygon& a, const sphere::ConvexPolygon& b) {
  EXPECT_EQ(a.vertices().size(), b.vertices().size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.vertices().size(), b.vertices().size()); ++i)
    worst = std::max(worst, a.vertices()[i].angle_to(b.vertices()[i]).radians());
  return worst;
}

sphere::ConvexPolygon decode_region(const YAML::Node& region) {
  const auto bytes = sphere::from_hex(region["encoded"].as<std::string>());
  return sphere::ConvexPolygon::decode(bytes);
}

struct ExportedSkyMap {
  std::string hash_base64;
  int tract_max = 0, patch_nx_max = 0, patch_ny_max = 0;
  std::map<int, sphere::ConvexPolygon> tracts;
  struct Patch {
    int tract, id, cell_x, cell_y;
    sphere::ConvexPolygon region;
  };
  std::vector<Patch> patches;
};

ExportedSkyMap read_export(const std::filesystem::path& file, const std::string& skymap) {
  const YAML::Node root = YAML::LoadFile(file.string());
  ExportedSkyMap out;
  for (const auto& block : root["data"]) {
    if (block["type"].as<std::string>() != "dimension") continue;
    const auto element = block["element"].as<std::string>();
    for (const auto& r : block["records"]) {
      if (element == "skymap" && r["name"].as<std::string>() == skymap) {
        out.hash_base64 = r["hash"].as<std::string>();
        out.tract_max = r["tract_max"].as<int>();
        out.patch_nx_max = r["patch_nx_max"].as<int>();
        out.patch_ny_max = r["patch_ny_max"].as<int>();
      } else if (element == "tract" && r["skymap"].as<std::string>() == skymap) {
        out.tracts.emplace(r["id"].as<int>(), decode_region(r["region"]));
      } else if (element == "patch" && r["skymap"].as<std::string>() == skymap) {
        out.patches.push_back({r["tract"].as<int>(), r["id"].as<int>(), r["cell_x"].as<int>(),
                               r["cell_y"].as<int>(), decode_region(r["region"])});
      }
    }
  }
  return out;
}

// Vertex-by-vertex agreement with Rubin's stored regions, in radians (measured: < 3e-14,
// i.e. ~5 microarcseconds; the vertex order is sphgeom's, so the comparison is by index).
constexpr double kTolerance = 1e-13;

TEST(SkyMapRegions, HscRingsV1MatchesRubinExport) {
  const auto file = registry_data() / "hsc-rc2-subset.yaml";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not present: " << file;
  const auto exported = read_export(file, "hsc_rings_v1");
  ASSERT_FALSE(exported.tracts.empty());
  const SkyMap sky(SkyMapConfig::from_file(shipped("hsc_rings_v1.yaml")));
  EXPECT_EQ(sky.size(), exported.tract_max);
  for (const auto& [id, region] : exported.tracts) {
    const auto mine = sky.tract(id).outer_polygon();
    const double d = max_vertex_distance(mine, region);
    EXPECT_LT(d, kTolerance) << "tract " << id;
  }
  for (const auto& p : exported.patches) {
    const TractInfo t = sky.tract(p.tract);
    const PatchInfo patch = t.patch(static_cast<std::int64_t>(p.id));
    EXPECT_EQ(patch.x, p.cell_x);
    EXPECT_EQ(patch.y, p.cell_y);
    const double d = max_vertex_distance(t.patch_polygon(patch), p.region);
    EXPECT_LT(d, kTolerance) << "patch " << p.tract << "/" << p.id;
  }
  EXPECT_EQ(exported.patches.size(), 2U);
  // The registry hash is Rubin's BaseSkyMap.getSha1(), bit for bit.
  const auto h = sky.config().sha1();
  EXPECT_EQ(sphere::from_base64(exported.hash_base64), std::vector<std::uint8_t>(h.begin(), h.end()));
}

TEST(SkyMapRegions, DiscreteCiHscMatchesRubinExport) {
  const auto file = registry_data() / "ci_hsc-subset-skymap.yaml";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not present: " << file;
  const auto exported = read_export(file, "discrete/ci_hsc");
  const SkyMap sky(SkyMapConfig::from_file(shipped("ci_hsc.yaml")));
  EXPECT_EQ(sky.size(), exported.tract_max);
  const auto [nx, ny] = sky.max_patches();
  EXPECT_EQ(nx, exported.patch_nx_max);
  EXPECT_EQ(ny, exported.patch_ny_max);
  ASSERT_EQ(exported.tracts.size(), 1U);
  EXPECT_LT(max_vertex_distance(sky.tract(0).outer_polygon(), exported.tracts.at(0)), kTolerance);
  const auto h = sky.config().sha1();
  EXPECT_EQ(sphere::from_base64(exported.hash_base64), std::vector<std::uint8_t>(h.begin(), h.end()));
}

}  // namespace
}  // namespace majordome::skymap

namespace majordome::skymap {
namespace {

std::string hex(const std::array<std::uint8_t, 20>& h) {
  return sphere::to_hex(std::span<const std::uint8_t>(h.data(), h.size()));
}

SkyMapConfig rings(int num_rings) {
  SkyMapConfig c;
  c.name = "test_rings";
  c.kind = SkyMapKind::kRings;
  c.num_rings = num_rings;
  c.projection = "TAN";
  c.pixel_scale_arcsec = 0.2;
  c.tract_overlap_deg = 1.0 / 60;
  return c;
}

TEST(SkyMapConfig, ReadsRubinFieldNames) {
  const auto c = SkyMapConfig::from_yaml(
      "name: hsc_rings_v1\nskyMap: rings\nnumRings: 120\nprojection: TAN\npixelScale: 0.168\n"
      "tractOverlap: 1.0/60\npatchInnerDimensions: [4000, 4000]\npatchBorder: 100\n");
  EXPECT_EQ(c.name, "hsc_rings_v1");
  EXPECT_EQ(c.kind, SkyMapKind::kRings);
  EXPECT_EQ(c.num_rings, 120);
  EXPECT_EQ(c.tract_overlap_deg, 1.0 / 60);  // the same double as Python's 1.0/60
  EXPECT_EQ(c.rotation_deg, 0.0);
  EXPECT_EQ(c.tract_builder, TractBuilderKind::kLegacy);
  EXPECT_EQ(c.effective_patch_inner_dimensions(), (std::array<int, 2>{4000, 4000}));
}

TEST(SkyMapConfig, DefaultsAreRubins) {
  const auto c = SkyMapConfig::from_yaml("name: x\nskyMap: rings\nnumRings: 10\n");
  EXPECT_EQ(c.projection, "STG");
  EXPECT_EQ(c.pixel_scale_arcsec, 0.333);
  EXPECT_EQ(c.tract_overlap_deg, 1.0);
  EXPECT_EQ(c.patch_border, 100);
  EXPECT_EQ(c.patch_inner_dimensions, (std::array<int, 2>{4000, 4000}));
}

TEST(SkyMapConfig, CanonicalTextRoundTrips) {
  for (const char* file : {"hsc_rings_v1.yaml", "lsst_cells_v1.yaml", "ci_hsc.yaml"}) {
    const auto c = SkyMapConfig::from_file(shipped(file));
    const auto again = SkyMapConfig::from_yaml(c.canonical_yaml(), "canonical");
    EXPECT_EQ(again, c) << file << "\n" << c.canonical_yaml();
    EXPECT_EQ(again.sha1(), c.sha1()) << file;
  }
}

TEST(SkyMapConfig, UnknownKeyNamesTheFix) {
  try {
    SkyMapConfig::from_yaml("name: x\nskyMap: rings\nnumRings: 10\npixelscale: 0.2\n", "my.yaml");
    FAIL() << "expected InvalidConfigError";
  } catch (const InvalidConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("my.yaml"), std::string::npos) << m;
    EXPECT_NE(m.find("'pixelscale'"), std::string::npos) << m;
    EXPECT_NE(m.find("did you mean 'pixelScale'"), std::string::npos) << m;
  }
}

TEST(SkyMapConfig, BadValuesAreNamed) {
  auto message = [](const std::string& yaml) {
    try {
      SkyMapConfig::from_yaml(yaml, "c.yaml");
    } catch (const InvalidConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("skyMap: rings\nnumRings: 3\n").find("missing 'name'"), std::string::npos);
  EXPECT_NE(message("name: x\nnumRings: 3\n").find("missing 'skyMap'"), std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: rings\n").find("numRings"), std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: healpix\n").find("rings or discrete"), std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: rings\nnumRings: many\n").find("numRings: expected a number"),
            std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: rings\nnumRings: 3\nprojection: TANGENT\n").find("3-letter"),
            std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: rings\nnumRings: 3\nraList: [1]\n").find("discrete skymap field"),
            std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: discrete\nraList: [1, 2]\ndecList: [1]\nradiusList: [1]\n")
                .find("same length"),
            std::string::npos);
  EXPECT_NE(message("name: x\nskyMap: rings\nnumRings: 3\ncellBorder: 10\n").find("tractBuilder cells"),
            std::string::npos);
  EXPECT_NE(message("name: [x\n").find("not valid YAML"), std::string::npos);
  EXPECT_THROW(SkyMapConfig::from_file("/nonexistent/skymap.yaml"), NotFoundError);
}

TEST(SkyMapConfig, ReadsRubinPythonConfigs) {
  // obs_lsst's makeSkyMap.py form (as in ci_lsstcam's configs/skymap.py).
  const std::string lsst =
      "# To be run with butler register-skymap\n"
      "config.name = \"lsst_cells_v1\"\n"
      "config.skyMap.name = \"rings\"\n"
      "config.skyMap[\"rings\"].numRings = 120\n"
      "config.skyMap[\"rings\"].projection = \"TAN\"\n"
      "# Overlap between tracts (degrees)\n"
      "config.skyMap[\"rings\"].tractOverlap = 1.0 / 60\n"
      "config.skyMap[\"rings\"].pixelScale = 0.2\n"
      "config.skyMap[\"rings\"].tractBuilder.name = \"cells\"\n";
  ASSERT_TRUE(SkyMapConfig::is_rubin_config(lsst));
  const auto c = SkyMapConfig::from_yaml(SkyMapConfig::translate_rubin_config(lsst, "makeSkyMap.py"), "x");
  EXPECT_EQ(c, SkyMapConfig::from_file(shipped("lsst_cells_v1.yaml")));

  // A saved config: every kind and builder spelled out; only the chosen ones count.
  const std::string saved =
      "import lsst.skymap.ringsSkyMap\n"
      "config.name='discrete/ci_hsc'\n"
      "config.skyMap['rings'].numRings=120\n"
      "config.skyMap['rings'].tractBuilder['cells'].cellBorder=50\n"
      "config.skyMap['discrete'].raList=[320.36749197602893]\n"
      "config.skyMap['discrete'].decList=[0.3131554006070023]\n"
      "config.skyMap['discrete'].radiusList=[\n    1.4388796242707318]\n"
      "config.skyMap['discrete'].projection='TAN'\n"
      "config.skyMap['discrete'].rotation=0.0\n"
      "config.skyMap['discrete'].patchBorder=100\n"
      "config.skyMap['discrete'].tractOverlap=0.0\n"
      "config.skyMap['discrete'].pixelScale=0.168\n"
      "config.skyMap['discrete'].tractBuilder['legacy'].patchInnerDimensions=[4000, 4000]\n"
      "config.skyMap['discrete'].tractBuilder['cells'].cellBorder=77\n"
      "config.skyMap['discrete'].tractBuilder.name='legacy'\n"
      "config.skyMap.name='discrete'\n";
  const auto d = SkyMapConfig::from_yaml(SkyMapConfig::translate_rubin_config(saved, "saved.config"), "x");
  EXPECT_EQ(d, SkyMapConfig::from_file(shipped("ci_hsc.yaml")));
  EXPECT_EQ(hex(d.sha1()), "2adeecc10f5ee735227fb7e8d4e9e3ddecc7f93b");

  EXPECT_FALSE(SkyMapConfig::is_rubin_config("name: x\nskyMap: rings\n"));
  try {
    SkyMapConfig::translate_rubin_config("config.name='x'\n", "no_kind.py");
    FAIL() << "expected InvalidConfigError";
  } catch (const InvalidConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("config.skyMap.name is not set"), std::string::npos) << e.what();
  }
  try {
    SkyMapConfig::translate_rubin_config("config.skyMap.name='rings'\nconfig.doWrite=True\n", "odd.py");
    FAIL() << "expected InvalidConfigError";
  } catch (const InvalidConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("odd.py line 2"), std::string::npos) << e.what();
  }
}

TEST(SkyMapConfig, HashIsRubinsSha1) {
  // Rubin's registry hashes for these skymaps (daf_butler test exports).
  EXPECT_EQ(hex(SkyMapConfig::from_file(shipped("hsc_rings_v1.yaml")).sha1()),
            "e29fe9f1008e359f36a3677e7d69cc439376d1e6");
  EXPECT_EQ(hex(SkyMapConfig::from_file(shipped("ci_hsc.yaml")).sha1()),
            "2adeecc10f5ee735227fb7e8d4e9e3ddecc7f93b");
  // Any field of the definition changes it; the name does not (Rubin hashes the geometry).
  auto c = rings(10);
  const auto h = c.sha1();
  c.name = "other";
  EXPECT_EQ(c.sha1(), h);
  c.pixel_scale_arcsec = 0.21;
  EXPECT_NE(c.sha1(), h);
}

TEST(SkyMap, HscRingsV1HasRubinsNumbers) {
  const SkyMap sky(SkyMapConfig::from_file(shipped("hsc_rings_v1.yaml")));
  EXPECT_EQ(sky.size(), 18938);
  EXPECT_EQ(sky.ring_sizes().size(), 120U);
  const auto counts = sky.patch_counts();
  EXPECT_EQ(counts.nx_max, 9);
  EXPECT_EQ(counts.ny_max, 9);
  EXPECT_EQ(counts.total, 1533978);  // ours (Rubin's exports do not record it); a regression guard
}

TEST(SkyMap, LsstCellsV1Numbers) {
  const SkyMap sky(SkyMapConfig::from_file(shipped("lsst_cells_v1.yaml")));
  EXPECT_EQ(sky.size(), 18938);
  const auto counts = sky.patch_counts();
  EXPECT_EQ(counts.nx_max, 10);
  EXPECT_EQ(counts.ny_max, 10);
  EXPECT_EQ(counts.total, 18938 * 100);  // every tract of lsst_cells_v1 is 10 x 10
  // Cells patches are not clipped: the outer box runs 200 px past the tract edge.
  const TractInfo t = sky.tract(1000);
  const PatchInfo corner = t.patch(0, 0);
  EXPECT_EQ(corner.inner_bbox, image::Box2I({0, 0}, {3000, 3000}));
  EXPECT_EQ(corner.outer_bbox, image::Box2I({-200, -200}, {3400, 3400}));
}

TEST(SkyMap, RingsCoverTheSkyWithOverlappingTracts) {
  const SkyMap sky(rings(6));
  ASSERT_EQ(sky.size(), 2 + std::accumulate(sky.ring_sizes().begin(), sky.ring_sizes().end(), 0));
  // Every tract centre lies in its own region; the poles are the caps (first and last).
  for (int id = 0; id < sky.size(); ++id) {
    const TractInfo t = sky.tract(id);
    EXPECT_TRUE(t.outer_polygon().contains(sphere::UnitVector3d(t.center()))) << id;
  }
  EXPECT_NEAR(sky.tract(0).center().lat().degrees(), -90.0, 1e-12);
  EXPECT_NEAR(sky.tract(sky.size() - 1).center().lat().degrees(), 90.0, 1e-12);
  // Points spread over the sky fall in at least one tract.
  std::vector<sphere::ConvexPolygon> regions;
  for (int id = 0; id < sky.size(); ++id) regions.push_back(sky.tract(id).outer_polygon());
  for (int i = 0; i < 200; ++i) {
    const double ra = std::fmod(i * 137.508, 360.0);
    const double dec = std::asin(std::fmod(i * 0.618034, 2.0) - 1.0) * 180.0 / std::numbers::pi;
    const sphere::UnitVector3d p(sphere::LonLat::from_degrees(ra, dec));
    bool found = false;
    for (const auto& r : regions) found = found || r.contains(p);
    EXPECT_TRUE(found) << ra << " " << dec;
  }
}

TEST(SkyMap, PatchesTileTheTract) {
  const SkyMap sky(rings(20));
  const TractInfo t = sky.tract(57);
  const auto inner = sky.config().effective_patch_inner_dimensions();
  EXPECT_EQ(t.bbox().width(), inner[0] * t.num_patches_x());
  EXPECT_EQ(t.bbox().height(), inner[1] * t.num_patches_y());
  std::int64_t area = 0;
  for (std::int64_t id = 0; id < t.num_patches(); ++id) {
    const PatchInfo p = t.patch(id);
    EXPECT_EQ(p.id, id);
    EXPECT_EQ(p.id, p.x + t.num_patches_x() * p.y);
    EXPECT_TRUE(t.bbox().contains(p.outer_bbox));  // legacy: clipped to the tract
    EXPECT_TRUE(p.outer_bbox.contains(p.inner_bbox));
    area += p.inner_bbox.area();
    // The patch region holds its centre, and lies within the tract region.
    const auto poly = t.patch_polygon(p);
    EXPECT_TRUE(t.outer_polygon().contains(poly.centroid())) << id;
  }
  EXPECT_EQ(area, t.bbox().area());
  EXPECT_THROW(t.patch(t.num_patches()), InvalidArgumentError);
  EXPECT_THROW(t.patch(-1, 0), InvalidArgumentError);
  EXPECT_THROW(sky.tract(sky.size()), InvalidArgumentError);
}

TEST(SkyMap, DiscreteTractsSitWhereConfigured) {
  SkyMapConfig c;
  c.name = "two";
  c.kind = SkyMapKind::kDiscrete;
  c.projection = "TAN";
  c.pixel_scale_arcsec = 0.2;
  c.tract_overlap_deg = 0.0;
  c.ra_list_deg = {10.0, 200.0};
  c.dec_list_deg = {-30.0, 45.0};
  c.radius_list_deg = {0.5, 1.0};
  const SkyMap sky(c);
  ASSERT_EQ(sky.size(), 2);
  const TractInfo t = sky.tract(1);
  EXPECT_NEAR(t.center().lon().degrees(), 200.0, 1e-12);
  // A 1-degree radius at 0.2"/px is 18000 px across at least, rounded up to whole patches.
  EXPECT_GE(t.bbox().width(), 18000);
  EXPECT_EQ(t.bbox().width() % 4000, 0);
  // North is up and east is left, as in Rubin's tract WCS.
  const auto up = t.wcs().pixel_to_sky(t.bbox().width() / 2.0, t.bbox().height() - 1.0);
  const auto left = t.wcs().pixel_to_sky(0.0, t.bbox().height() / 2.0);
  EXPECT_GT(up.dec_deg, 45.0);
  EXPECT_GT(left.ra_deg, 200.0);
}

}  // namespace
}  // namespace majordome::skymap
