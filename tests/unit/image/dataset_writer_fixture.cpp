// Puts one dataset of each image storage class into a new SQLite repository through
// Butler::put, and prints (as JSON, on stdout) each dataset's file and the values majordome
// computed, for tests/python/image/test_datasets_astropy.py:
//   dataset_writer_fixture OUTDIR
#include <iostream>
#include <nlohmann/json.hpp>

#include "majordome/butler/butler.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/formatters.hpp"

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
                                                                            {"summary", "StructuredDataDict"}})
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
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dataset_writer_fixture: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
