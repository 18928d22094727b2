// put + get of a SIZE×SIZE ExposureF (image, mask, variance) through the Butler, against a
// plain cfitsio write + read of the same three HDUs (the floor: what any FITS writer must
// do), plus a 100×100 bbox get and a component (wcs) get. Prints medians over REPS.
//
//   bench_butler_get_put OUTDIR [SIZE=4096] [REPS=5]
#include <fitsio.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "majordome/butler/butler.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/formatters.hpp"

namespace {

using namespace majordome;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void check(int status, const char* what) {
  if (status) {
    char text[FLEN_STATUS];
    fits_get_errstatus(status, text);
    throw std::runtime_error(fmt::format("cfitsio {}: {}", what, text));
  }
}

// The floor: three image HDUs written and read with cfitsio directly, synced like the butler.
void cfitsio_round_trip(const fs::path& path, const image::Exposure& e) {
  fitsfile* f = nullptr;
  int status = 0;
  long naxes[2] = {e.width(), e.height()};
  const auto n = static_cast<LONGLONG>(e.width()) * e.height();
  fits_create_file(&f, path.c_str(), &status);
  fits_create_img(f, 8, 0, nullptr, &status);
  fits_create_img(f, FLOAT_IMG, 2, naxes, &status);
  fits_write_img(f, TFLOAT, 1, n, e.image().data(), &status);
  fits_create_img(f, ULONG_IMG, 2, naxes, &status);
  fits_write_img(f, TUINT, 1, n, e.mask().data(), &status);
  fits_create_img(f, FLOAT_IMG, 2, naxes, &status);
  fits_write_img(f, TFLOAT, 1, n, e.variance().data(), &status);
  fits_close_file(f, &status);
  check(status, "write");
  FILE* sync = std::fopen(path.c_str(), "r+");
  ::fsync(::fileno(sync));
  std::fclose(sync);
  std::vector<float> image(static_cast<std::size_t>(n)), variance(static_cast<std::size_t>(n));
  std::vector<unsigned> mask(static_cast<std::size_t>(n));
  int anynul = 0;
  fits_open_file(&f, path.c_str(), READONLY, &status);
  fits_movabs_hdu(f, 2, nullptr, &status);
  fits_read_img(f, TFLOAT, 1, n, nullptr, image.data(), &anynul, &status);
  fits_movabs_hdu(f, 3, nullptr, &status);
  fits_read_img(f, TUINT, 1, n, nullptr, mask.data(), &anynul, &status);
  fits_movabs_hdu(f, 4, nullptr, &status);
  fits_read_img(f, TFLOAT, 1, n, nullptr, variance.data(), &anynul, &status);
  fits_close_file(f, &status);
  check(status, "read");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_butler_get_put OUTDIR [SIZE=4096] [REPS=5]\n";
    return 2;
  }
  const fs::path out = argv[1];
  const int size = argc > 2 ? std::stoi(argv[2]) : 4096;
  const int reps = argc > 3 ? std::stoi(argv[3]) : 5;
  fs::remove_all(out);
  fs::create_directories(out);
  image::Exposure e(size, size);
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(1000.0F, 30.0F);
  for (int y = 0; y < size; ++y) {
    for (auto& p : e.image().row(y)) p = noise(rng);
    for (auto& v : e.variance().row(y)) v = 900.0F;
  }
  e.set_wcs(std::make_shared<const image::Wcs>(
      image::make_tan({size / 2.0, size / 2.0}, {150.0, 2.0}, {-5.5e-5, 0.0, 0.0, 5.5e-5})));

  const fs::path root = out / "repo";
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
  r.register_dataset_type({"calexp", u.group({"instrument"}), "ExposureF", false});
  const butler::DataId id{{"instrument", std::string("Cam1")}};

  std::vector<double> floor, put, get, box, wcs;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    cfitsio_round_trip(out / fmt::format("plain{}.fits", i), e);
    floor.push_back(seconds_since(t0));

    const std::string run = fmt::format("run{}", i);
    t0 = Clock::now();
    auto ref = b->put(e, "calexp", id, run);
    put.push_back(seconds_since(t0));
    t0 = Clock::now();
    auto back = b->get_as<image::Exposure>(ref);
    get.push_back(seconds_since(t0));
    t0 = Clock::now();
    auto part = b->get_as<image::Exposure>(ref, {{"bbox", image::Box2I({size / 2, size / 2}, {100, 100})}});
    box.push_back(seconds_since(t0));
    auto component = ref;
    component.dataset_type = "calexp.wcs";
    t0 = Clock::now();
    b->get(component);
    wcs.push_back(seconds_since(t0));
  }
  const double mb = 3.0 * 4.0 * size * size / 1e6;
  fmt::print("ExposureF {}x{} ({:.0f} MB of pixels), median of {}:\n", size, size, mb, reps);
  fmt::print("  cfitsio write+fsync+read (floor)  {:8.3f} s\n", median(floor));
  fmt::print("  butler put + get                  {:8.3f} s  ({:.3f} + {:.3f}; {:.2f}x the floor)\n",
             median(put) + median(get), median(put), median(get), (median(put) + median(get)) / median(floor));
  fmt::print("  get with a 100x100 bbox           {:8.2f} ms\n", 1e3 * median(box));
  fmt::print("  get of calexp.wcs                 {:8.2f} ms\n", 1e3 * median(wcs));
  return 0;
}
