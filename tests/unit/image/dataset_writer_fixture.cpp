// Puts one dataset of each image storage class into a new SQLite repository through
// Butler::put, and prints (as JSON, on stdout) each dataset's file and the values majordome
// computed, for tests/python/image/test_datasets_astropy.py:
//   dataset_writer_fixture OUTDIR
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "majordome/butler/butler.hpp"
#include "majordome/datastore/butler_log_records.hpp"
#include "majordome/datastore/config.hpp"
#include "majordome/datastore/task_metadata.hpp"
#include "majordome/image/background.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/exposure_i.hpp"
#include "majordome/image/formatters.hpp"
#include "majordome/instrument/defects.hpp"
#include "majordome/instrument/formatters.hpp"

namespace {

using namespace majordome;
using image::Box2I;
using Json = nlohmann::ordered_json;

image::Exposure make_exposure() {
  image::Exposure e(Box2I({100, 200}, {60, 40}));
  for (int y = 0; y < e.height(); ++y)
    for (int x = 0; x < e.width(); ++x) {
      e.image()(x, y) = static_cast<float>(x + 1000 * y) * 0.5F;
      e.variance()(x, y) = 4.0F + static_cast<float>(y);
    }
  e.mask().set_bits(Box2I({110, 210}, {3, 2}), e.mask().get_bitmask("SAT"));
  e.set_wcs(std::make_shared<const image::Wcs>(
      image::make_tan({130.0, 220.0}, {150.0, 2.0}, {-5.0e-5, 0.0, 0.0, 5.0e-5})));
  e.set_photo_calib(image::PhotoCalib{0.0575, 0.0002});
  e.set_filter(image::FilterLabel{"r", "HSC-R"});
  e.metadata().set("OBJECT", "FIELD1");
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: dataset_writer_fixture OUTDIR\n";
    return 2;
  }
  try {
    const std::filesystem::path root = std::filesystem::path(argv[1]) / "repo";
    butler::Butler::create(root);
    auto formatters = std::make_shared<datastore::FormatterRegistry>();
    datastore::add_basic_formatters(*formatters);
    image::add_formatters(*formatters);
    instrument::add_formatters(*formatters);
    auto b = butler::Butler::open(root, butler::Access::kReadWrite, formatters);
    auto& r = b->registry();
    const auto& u = r.universe();
    r.insert_records("instrument", {dimensions::DimensionRecord(u.get("instrument"),
                                                                {std::string("Cam1"), std::int64_t{10}, std::int64_t{0},
                                                                 std::int64_t{10}, std::int64_t{4}, std::string("x")})});
    const auto group = u.group({"instrument"});
    for (auto [name, sc] : std::vector<std::pair<const char*, const char*>>{{"calexp", "ExposureF"},
                                                                            {"picture", "ImageU"},
                                                                            {"truth", "ArrowAstropy"},
                                                                            {"solution", "Wcs"},
                                                                            {"summary", "StructuredDataDict"},
                                                                            {"counts", "ExposureI"},
                                                                            {"sky", "Background"},
                                                                            {"defects", "Defects"},
                                                                            {"isr_config", "Config"},
                                                                            {"isr_metadata", "TaskMetadata"},
                                                                            {"isr_log", "ButlerLogRecords"}})
      r.register_dataset_type({name, group, sc, false});
    const butler::DataId id{{"instrument", std::string("Cam1")}};
    Json out;
    const auto exposure = make_exposure();
    auto put = [&](const auto& object, const char* type, const char* run) {
      out[std::string(type) + (std::string(run) == "run" ? "" : "_again")]["path"] =
          b->get_uri(b->put(object, type, id, run)).substr(7);
    };
    put(exposure, "calexp", "run");
    put(exposure, "calexp", "run2");  // the same object again: the same bytes
    const auto sky = exposure.wcs()->pixel_to_sky(110.0, 230.0);
    out["calexp"]["sky_at_110_230"] = {sky.ra_deg, sky.dec_deg};
    out["calexp"]["sat_bit"] = exposure.mask().planes().get_bit("SAT");

    image::Image<std::uint16_t> picture(Box2I({-3, 5}, {7, 6}), 40000);
    picture(2, 1) = 7;
    put(picture, "picture", "run");

    image::Schema schema;
    schema.add("id", image::ColumnType::kInt64, "object id");
    schema.add("type", image::ColumnType::kString, "star or galaxy");
    schema.add("mag", image::ColumnType::kDouble, "magnitude", "mag");
    image::Catalog truth(schema, 4);
    const char* types[] = {"star", "galaxy", "star", "galaxy_disk"};
    for (std::size_t i = 0; i < 4; ++i) {
      truth.column<std::int64_t>("id")[i] = static_cast<std::int64_t>(i + 1);
      truth.strings("type")[i] = types[i];
      truth.column<double>("mag")[i] = 20.0 + 0.5 * static_cast<double>(i);
    }
    put(truth, "truth", "run");
    put(exposure.wcs(), "solution", "run");
    put(Json{{"count", 3}, {"label", "123"}, {"ratio", 2.0}, {"flags", {true, nullptr}}}, "summary", "run");

    // ExposureI: integers beyond float precision.
    image::ExposureI counts(Box2I({10, 20}, {5, 4}));
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x) counts.image()(x, y) = 2'000'000'001 + 1000 * y + x;
    counts.variance().fill(3.0F);
    counts.components().metadata().set("OBJECT", "COUNTS");
    put(counts, "counts", "run");
    put(counts, "counts", "run2");

    // Background: a 3 × 2 grid of bins over a 30 × 20 image, and a constant offset.
    image::BackgroundModel model;
    model.bbox = Box2I({5, 6}, {30, 20});
    model.values = image::Image<float>(3, 2);
    model.variance = image::Image<float>(3, 2, 0.5F);
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 3; ++i) model.values(i, j) = 100.0F + 10.0F * static_cast<float>(i) + static_cast<float>(j);
    model.interpolation = image::BackgroundInterpolation::kLinear;
    image::BackgroundModel offset;
    offset.bbox = model.bbox;
    offset.values = image::Image<float>(1, 1, -2.5F);
    offset.interpolation = image::BackgroundInterpolation::kConstant;
    const image::BackgroundList background({model, offset});
    put(background, "sky", "run");
    put(background, "sky", "run2");
    const auto full = background.evaluate();
    out["sky"]["at_12_9"] = full.at({12, 9});

    instrument::Defects defects;
    defects.boxes = {Box2I({0, 0}, {17, 40}), Box2I({1023, 5}, {2, 30})};
    defects.metadata.set("OBSTYPE", "defects");
    defects.metadata.set("INSTRUME", "Cam1");
    defects.metadata.set("DETECTOR", 1);
    put(defects, "defects", "run");
    put(defects, "defects", "run2");

    datastore::Config config;
    config.set("doWrite", true);
    config.set("gain", 1.0 / 3.0);
    config.set("saturation", 65535.0);
    config.set("doc", "it's \"quoted\"\nand é");
    config.set("planes", datastore::ConfigList{"BAD", "SAT"});
    config.set("byAmp", datastore::ConfigDict{{"C00", 1.5}, {datastore::ConfigValue(7), nullptr}});
    config.set("maxFlux", std::numeric_limits<double>::infinity());
    config.set("big", std::numeric_limits<std::int64_t>::min());
    put(config, "isr_config", "run");

    datastore::TaskMetadata metadata;
    metadata.scalars = {{"t", 0.25}, {"n", std::int64_t{7}}, {"label", std::string("isr")}, {"one", 1.0}};
    metadata.arrays = {{"ids", {std::int64_t{1}, std::int64_t{2}}}};
    metadata.metadata["sub"].scalars["ok"] = true;
    put(metadata, "isr_metadata", "run");

    datastore::ButlerLogRecords log;
    datastore::ButlerLogRecord record;
    record.name = "lsst.isr";
    record.asctime = "2024-03-01T10:00:00.123456Z";
    record.message = "two\nlines";
    record.mdc = {{"LABEL", "isr"}};
    log.records = {record, record};
    put(log, "isr_log", "run");

    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dataset_writer_fixture: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
