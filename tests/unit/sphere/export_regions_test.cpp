// Regions from real Butler export files: the codec round trip on every stored region,
// and the pure-geometry facts behind the spatial query scenarios of spec/butler.md §9
// (rows 15–21).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "majordome/core/error.hpp"
#include "majordome/sphere/codec.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region.hpp"
#include "majordome/sphere/region_parsing.hpp"

namespace majordome::sphere {
namespace {

namespace fs = std::filesystem;

const fs::path kExports = fs::path(MAJORDOME_SHARED_DATA) / "registry" / "daf_butler";

#define SKIP_WITHOUT_SHARED_DATA()                                                     \
  if (!fs::exists(MAJORDOME_SHARED_DATA)) {                                            \
    GTEST_SKIP() << "shared test data not found at " << MAJORDOME_SHARED_DATA          \
                 << " (the ../shared/data checkout is optional; these tests need it)"; \
  }                                                                                    \
  ASSERT_TRUE(fs::is_directory(kExports))                                              \
      << "shared data is present but " << kExports << " is missing"

// Every `encoded: <hex>` value in a file, in order (a line scan: fast on 800 kB).
std::vector<std::string> encoded_values(const fs::path& file) {
  std::vector<std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto pos = line.find("encoded: ");
    if (pos != std::string::npos) out.push_back(line.substr(pos + 9));
  }
  return out;
}

using Key = std::vector<std::string>;  // identifying record fields, in a fixed order

// element name → (key → region) for dimension records carrying a region.
std::map<std::string, std::map<Key, std::unique_ptr<Region>>> load_regions(
    const fs::path& file, const std::map<std::string, std::vector<std::string>>& keys) {
  std::map<std::string, std::map<Key, std::unique_ptr<Region>>> out;
  const YAML::Node doc = YAML::LoadFile(file.string());
  for (const auto& entry : doc["data"]) {
    if (entry["type"].as<std::string>() != "dimension") continue;
    const std::string element = entry["element"].as<std::string>();
    const auto k = keys.find(element);
    if (k == keys.end()) continue;
    for (const auto& record : entry["records"]) {
      Key key;
      for (const auto& field : k->second) key.push_back(record[field].as<std::string>());
      out[element][key] = Region::decode_hex(record["region"]["encoded"].as<std::string>());
    }
  }
  return out;
}

TEST(ExportRegions, EveryStoredRegionRoundTripsByteForByte) {
  SKIP_WITHOUT_SHARED_DATA();
  std::size_t total = 0, rc2 = 0;
  for (const auto& file : fs::directory_iterator(kExports)) {
    if (file.path().extension() != ".yaml") continue;
    for (const std::string& hex : encoded_values(file.path())) {
      const auto region = Region::decode_hex(hex);
      ASSERT_EQ(region->encode_hex(), hex) << file.path().filename();
      // Also through the database form.
      ASSERT_EQ(Region::decode_base64(region->encode_base64())->encode_hex(), hex);
      ASSERT_EQ(region->type(), RegionType::kConvexPolygon);
      // Stored footprints are counter-clockwise: each holds its own vertex centroid.
      const auto& poly = static_cast<const ConvexPolygon&>(*region);
      EXPECT_TRUE(poly.contains(poly.centroid())) << file.path().filename() << " " << hex;
      ++total;
      if (file.path().filename() == "hsc-rc2-subset.yaml") ++rc2;
    }
  }
  EXPECT_GE(rc2, 1000u)
      << "hsc-rc2-subset.yaml should hold >1000 regions (1,132 visit_detector_regions)";
  EXPECT_GE(total, 1377u);
}

class SpatialScenario : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(MAJORDOME_SHARED_DATA)) {
      GTEST_SKIP() << "shared test data not found at " << MAJORDOME_SHARED_DATA;
    }
    auto all =
        load_regions(kExports / "spatial.yaml", {{"visit", {"id"}},
                                                 {"visit_detector_region", {"visit", "detector"}},
                                                 {"tract", {"id"}},
                                                 {"patch", {"tract", "id"}}});
    visits_ = std::move(all["visit"]);
    detector_regions_ = std::move(all["visit_detector_region"]);
    tracts_ = std::move(all["tract"]);
    patches_ = std::move(all["patch"]);
    ASSERT_EQ(visits_.size(), 2u);
    ASSERT_EQ(detector_regions_.size(), 8u);
    ASSERT_EQ(tracts_.size(), 2u);
    ASSERT_EQ(patches_.size(), 12u);
  }

  const Region& patch(int tract, int id) {
    return *patches_.at({std::to_string(tract), std::to_string(id)});
  }

  std::map<Key, std::unique_ptr<Region>> visits_, detector_regions_, tracts_, patches_;
};

// Row 20: which patches of tract 0 each (visit, detector) region overlaps.
TEST_F(SpatialScenario, DetectorRegionsOverlapExactlyTheExpectedPatches) {
  const std::map<Key, std::set<int>> expected = {
      {{"1", "1"}, {0, 2}}, {{"1", "2"}, {0, 1, 2, 3}}, {{"1", "3"}, {2, 4}},
      {{"1", "4"}, {2, 3}}, {{"2", "1"}, {4}},          {{"2", "2"}, {4, 5}},
  };
  for (const auto& [key, patches] : expected) {
    std::set<int> got;
    for (int p = 0; p < 6; ++p) {
      const auto o = detector_regions_.at(key)->overlaps(patch(0, p));
      ASSERT_TRUE(o.has_value());
      if (*o) got.insert(p);
    }
    EXPECT_EQ(got, patches) << "visit " << key[0] << " detector " << key[1];
  }
}

// Row 16: detector regions overlapping tract 0 patch 4 are exactly detectors 1, 2, 3
// (visit 1 det 3; visit 2 dets 1, 2); a detector-4 region shares an htm7 pixel with the
// patch without overlapping it, so the exact test is what drops it.
TEST_F(SpatialScenario, ExactOverlapDropsADetectorThatOnlySharesAPixel) {
  const Region& p4 = patch(0, 4);
  const HtmPixelization htm7(7);
  const RangeSet patch_pixels = htm7.envelope(p4);
  std::set<Key> overlapping;
  std::set<std::string> detectors;
  bool pixel_only_detector4 = false;
  for (const auto& [key, region] : detector_regions_) {
    if (region->overlaps(p4) == true) {
      overlapping.insert(key);
      detectors.insert(key[1]);
    } else if (key[1] == "4" && htm7.envelope(*region).intersects(patch_pixels)) {
      pixel_only_detector4 = true;
    }
  }
  EXPECT_EQ(overlapping, (std::set<Key>{{"1", "3"}, {"2", "1"}, {"2", "2"}}));
  EXPECT_EQ(detectors, (std::set<std::string>{"1", "2", "3"}));
  EXPECT_TRUE(pixel_only_detector4);
}

// Row 17: the htm7 pixels overlapping tract 0 patch 4.
TEST_F(SpatialScenario, Htm7PixelsOfPatch) {
  const Region& p4 = patch(0, 4);
  const HtmPixelization htm7(7);
  const RangeSet envelope = htm7.envelope(p4);
  std::vector<std::uint64_t> exact;
  for (std::uint64_t id : envelope.values()) {
    if (HtmPixelization::triangle(id).overlaps(p4) == true) exact.push_back(id);
  }
  EXPECT_EQ(exact, (std::vector<std::uint64_t>{253954, 253955}));
  EXPECT_EQ(envelope.values(), exact);
}

// Row 15: visit 1 detectors whose region overlaps htm7 pixel 253954.
TEST_F(SpatialScenario, DetectorsOverlappingOnePixel) {
  const ConvexPolygon pixel = HtmPixelization::triangle(253954);
  const HtmPixelization htm7(7);
  std::set<std::string> exact, by_envelope;
  for (const auto& [key, region] : detector_regions_) {
    if (key[0] != "1") continue;
    if (region->overlaps(pixel) == true) exact.insert(key[1]);
    if (htm7.envelope(*region).contains(253954)) by_envelope.insert(key[1]);
  }
  EXPECT_EQ(exact, (std::set<std::string>{"1", "3", "4"}));
  EXPECT_EQ(by_envelope, exact);
}

// Row 18: visit 1 lies in tract 0 only; visit 2 straddles tracts 0 and 1.
TEST_F(SpatialScenario, VisitsAndTracts) {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& [tract, tregion] : tracts_) {
    for (const auto& [visit, vregion] : visits_) {
      if (vregion->overlaps(*tregion) == true) pairs.insert({tract[0], visit[0]});
    }
  }
  EXPECT_EQ(pairs,
            (std::set<std::pair<std::string, std::string>>{{"0", "1"}, {"0", "2"}, {"1", "2"}}));
}

// Row 19: regions overlapping a POINT. The Butler turns POINT into a zero-radius circle;
// the second point lies 1.7e-11 rad below tract 1 patch 4's bottom edge (whose vertices
// sit at dec ≈ -1e-14°), which counts as touching within the circle tolerance but is not
// strictly inside the polygon.
TEST_F(SpatialScenario, PointQueries) {
  auto overlapping = [](const std::map<Key, std::unique_ptr<Region>>& regions,
                        const Region& point) {
    std::set<Key> hits;
    for (const auto& [key, region] : regions) {
      const auto o = region->overlaps(point);
      EXPECT_TRUE(o.has_value());
      if (o.value_or(true)) hits.insert(key);
    }
    return hits;
  };
  const double ra = 0.25209391431545386, dec = 0.9269112711026793;
  EXPECT_EQ(overlapping(detector_regions_, point_region_from_degrees(ra, dec)),
            (std::set<Key>{{"1", "3"}}));
  EXPECT_EQ(overlapping(detector_regions_, point_region_from_degrees(ra - 360, dec)),
            (std::set<Key>{{"1", "3"}}));
  EXPECT_EQ(overlapping(detector_regions_, point_region_from_degrees(ra, 1)),
            (std::set<Key>{{"1", "3"}}));
  std::set<Key> inside;
  for (const auto& [key, region] : detector_regions_) {
    if (region->contains(point_from_degrees(ra, dec))) inside.insert(key);
  }
  EXPECT_EQ(inside, (std::set<Key>{{"1", "3"}}));

  EXPECT_EQ(overlapping(patches_, point_region_from_degrees(0.335, -0.000000001)),
            (std::set<Key>{{"1", "4"}}));
  EXPECT_FALSE(patch(1, 4).contains(point_from_degrees(0.335, -0.000000001)));
  EXPECT_TRUE(patch(1, 4).contains(point_from_degrees(0.335, 0.000000001)));
  EXPECT_THROW(point_region_from_degrees(0.335, -91), InvalidArgumentError);
}

// Row 21: ci_hsc calexp footprints against CIRCLE / BOX / POLYGON / REGION constraints.
// The expression language's CIRCLE(ra, dec, r) uses an opening angle of 2r (a Butler
// quirk); REGION('CIRCLE …') and bound IVOA strings use r.
TEST(CiHscScenario, QueryRegionCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  auto all = load_regions(kExports / "ci_hsc-subset.yaml",
                          {{"visit_detector_region", {"visit", "detector"}}});
  const auto& regions = all["visit_detector_region"];
  ASSERT_EQ(regions.size(), 33u);
  auto count = [&](const Region& q) {
    int n = 0;
    for (const auto& [key, r] : regions) {
      const auto o = r->overlaps(q);
      EXPECT_TRUE(o.has_value());
      n += o.value_or(true) ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(count(circle_from_degrees(320.0, -0.25, 2 * 10.0)), 33);
  EXPECT_EQ(count(circle_from_degrees(321.0, -0.4, 2 * 0.01)), 1);
  EXPECT_EQ(count(circle_from_degrees(321.0, -0.5, 2 * 0.01)), 0);
  EXPECT_EQ(count(box_from_degrees(320, -0.25, 5, 5)), 33);
  const double poly[] = {320.99, -0.401, 320.99, -0.399, 321.01, -0.399, 321.01, -0.401};
  EXPECT_EQ(count(polygon_from_degrees(poly)), 1);
  EXPECT_EQ(count(*parse_ivoa_pos("RANGE 310 330 -10 10")), 33);
  EXPECT_EQ(count(*parse_ivoa_pos("CIRCLE 321.1 -0.35 0.02")), 2);
}

}  // namespace
}  // namespace majordome::sphere
