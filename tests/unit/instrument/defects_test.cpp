// Defects: Rubin's ECSV read, the FITS table written and read back through Butler::put /
// get on SQLite and PostgreSQL, and curated ECSV files read through the Butler.
#include "majordome/instrument/defects.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "butler_repo_fixture.hpp"
#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/instrument/formatters.hpp"

namespace majordome::instrument {
namespace {

namespace fs = std::filesystem;
using image::Box2I;
using majordome::testing::Backend;

const butler::DataId kDetector1{{"instrument", std::string("Cam1")}, {"detector", std::int64_t{1}}};
const fs::path kLatiss1970 =
    fs::path(MAJORDOME_SOURCE_DIR) / "data/instruments/curated/LATISS/defects/rxx_s00/19700101T000000.ecsv";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Defects, ReadsRubinsSimpleEcsv) {
  const Defects d = Defects::from_ecsv(read_text(kLatiss1970), kLatiss1970.string());
  ASSERT_FALSE(d.boxes.empty());
  EXPECT_EQ(d.boxes.front(), Box2I({3562, 0}, {509, 2000}));
  EXPECT_EQ(d.metadata.get_string("OBSTYPE"), "defects");
  EXPECT_EQ(d.metadata.get_string("INSTRUME"), "LATISS");
  EXPECT_EQ(d.metadata.get_int("DETECTOR"), 0);
  EXPECT_EQ(d.metadata.get_string("CALIBDATE"), "1970-01-01T00:00:00");
  EXPECT_FALSE(d.metadata.contains("DEFECTS_SCHEMA"));  // the file's schema, not the defects'
  EXPECT_THROW(Defects::from_ecsv("x0 y0 width height\n1 2 3 4\n"), CorruptFileError);
  EXPECT_THROW(Defects::from_ecsv("# %ECSV 0.9\n# ---\n# meta: {DEFECTS_SCHEMA: FITS Region}\nx0 y0 width height\n"),
               CorruptFileError);
  EXPECT_THROW(Defects::from_ecsv("# %ECSV 0.9\n# ---\nx0 y0 width\n1 2 3\n"), CorruptFileError);
}

class DefectsButlerTest : public majordome::testing::ButlerRepoTest {
 protected:
  std::unique_ptr<butler::Butler> open_with_types() {
    auto formatters = std::make_shared<datastore::FormatterRegistry>();
    datastore::add_basic_formatters(*formatters);
    add_formatters(*formatters);
    auto b = open(formatters);
    auto& r = b->registry();
    r.register_dataset_type({"defects", r.universe().group({"instrument", "detector"}), "Defects", true});
    return b;
  }
};

Defects sample_defects() {
  Defects d;
  d.boxes = {Box2I({0, 0}, {17, 4176}), Box2I({1023, 5}, {2, 4171}), Box2I({-3, 7}, {1, 1})};
  d.metadata.set("OBSTYPE", "defects");
  d.metadata.set("INSTRUME", "Cam1");
  d.metadata.set("DETECTOR", 1);
  d.metadata.set("CALIBDATE", "2024-01-01T00:00:00");
  d.metadata.set("CALIB_ID", "raftName=R22 detectorName=S11 detector=1 calibDate=2024-01-01T00:00:00 "
                             "ccd=1 ccdnum=1 filter=None (a long card, continued)");
  d.metadata.set("FLUXLIM", 0.25);
  return d;
}

TEST_P(DefectsButlerTest, RoundTripThroughAFitsTable) {
  auto b = open_with_types();
  const Defects d = sample_defects();
  auto ref = b->put(d, "defects", kDetector1, "run");
  EXPECT_EQ(b->get_as<Defects>(ref), d);
  const fs::path file = b->get_uri(ref).substr(7);
  EXPECT_EQ(file.extension(), ".fits");
  // The table carries Rubin's schema keywords and the metadata.
  image::FitsFile f(file, image::FitsMode::kRead);
  f.move_to_extname("DEFECTS");
  const auto table = f.read_catalog();
  EXPECT_EQ(table.metadata().get_string("DEFECTS_SCHEMA"), "Simple");
  EXPECT_EQ(table.metadata().get_int("DEFECTS_SCHEMA_VERSION"), 1);
  EXPECT_EQ(table.schema()[2].name, "width");
  EXPECT_EQ(table.schema()[2].unit, "pix");
  f.close();
  EXPECT_EQ(read_text(file), read_text(b->get_uri(b->put(d, "defects", kDetector1, "run2")).substr(7)));
  EXPECT_TRUE(b->get_as<Defects>(b->put(Defects{}, "defects", kDetector1, "run3")).boxes.empty());
}

TEST_P(DefectsButlerTest, CuratedEcsvFilesReadAsDefects) {
  auto b = open_with_types();
  butler::FileDataset file;
  file.path = kLatiss1970;
  file.formatter = "majordome.instrument.CuratedEcsvFormatter";  // what write-curated-calibrations records
  file.refs.push_back({Uuid(), "defects", kDetector1, "curated"});
  butler::IngestOptions options;
  options.transfer = "copy";
  const auto refs = b->ingest({file}, "curated", options);
  const Defects d = b->get_as<Defects>(refs.at(0));
  EXPECT_EQ(d, Defects::from_ecsv(read_text(kLatiss1970)));
  EXPECT_EQ(d.boxes.front(), Box2I({3562, 0}, {509, 2000}));
}

INSTANTIATE_TEST_SUITE_P(Backends, DefectsButlerTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         majordome::testing::backend_name);

}  // namespace
}  // namespace majordome::instrument
