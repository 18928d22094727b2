// FITS read/write throughput of majordome::image on a 4k×4k float32 image, plain and
// tile-compressed, beside the floor set by the disk (page cache) for the same bytes.
//
//   bench_image_fits [OUTDIR] [REPS]      (defaults: $TMPDIR or /tmp, 5)
//
// MB/s are of uncompressed pixels (64 MiB = 67.1 MB per image), best of REPS runs; reads
// come from the page cache, as in ../shared/bench (compare with its fitsio_bench floor,
// run in the same session). "+fsync" adds the time to push the file to the device.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "majordome/image/fits_file.hpp"

namespace mi = majordome::image;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kSize = 4096;

// Sky 1000 ± 10 (Gaussian noise) with 3000 Gaussian stars: realistic for compression.
mi::Image<float> make_image() {
  mi::Image<float> img(kSize, kSize);
  std::mt19937 rng(12345);
  std::normal_distribution<float> noise(1000.0F, 10.0F);
  for (int y = 0; y < kSize; ++y)
    for (auto& p : img.row(y)) p = noise(rng);
  std::uniform_real_distribution<double> pos(10, kSize - 10);
  std::lognormal_distribution<double> flux(8.0, 1.5);
  for (int s = 0; s < 3000; ++s) {
    const double cx = pos(rng), cy = pos(rng), f = flux(rng), sigma = 1.8;
    for (int y = static_cast<int>(cy) - 8; y <= static_cast<int>(cy) + 8; ++y)
      for (int x = static_cast<int>(cx) - 8; x <= static_cast<int>(cx) + 8; ++x) {
        const double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        img(x, y) += static_cast<float>(f / (2 * std::numbers::pi * sigma * sigma) * std::exp(-r2 / (2 * sigma * sigma)));
      }
  }
  return img;
}

double best_seconds(int reps, const std::function<void()>& fn) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

void fsync_path(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void report(const char* what, double seconds, double bytes, std::uintmax_t file_size) {
  std::printf("%-34s %8.4f s  %8.0f MB/s", what, seconds, bytes / seconds / 1e6);
  if (file_size > 0) std::printf("   file %6.1f MB (ratio %.2f)", file_size / 1e6, bytes / static_cast<double>(file_size));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path dir = argc > 1 ? argv[1] : (tmp != nullptr ? tmp : "/tmp");
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::filesystem::create_directories(dir);  // a missing output directory is created, not a crash
  const auto raw_path = dir / "majordome_bench_raw.bin";
  const mi::Image<float> image = make_image();
  const double bytes = static_cast<double>(image.bbox().area()) * sizeof(float);
  std::printf("image %dx%d float32 (%.1f MB), best of %d, files in %s\n", kSize, kSize, bytes / 1e6,
              reps, dir.c_str());

  // Floor: the same bytes written and read with plain stdio.
  const double raw_write = best_seconds(reps, [&] {
    std::FILE* f = std::fopen(raw_path.c_str(), "wb");
    std::fwrite(image.data(), sizeof(float), static_cast<std::size_t>(image.bbox().area()), f);
    std::fclose(f);
  });
  const double raw_write_sync = best_seconds(reps, [&] {
    std::FILE* f = std::fopen(raw_path.c_str(), "wb");
    std::fwrite(image.data(), sizeof(float), static_cast<std::size_t>(image.bbox().area()), f);
    std::fclose(f);
    fsync_path(raw_path);
  });
  std::vector<float> buffer(static_cast<std::size_t>(image.bbox().area()));
  const double raw_read = best_seconds(reps, [&] {
    std::FILE* f = std::fopen(raw_path.c_str(), "rb");
    if (std::fread(buffer.data(), sizeof(float), buffer.size(), f) != buffer.size()) std::abort();
    std::fclose(f);
  });
  report("raw write (stdio)", raw_write, bytes, 0);
  report("raw write+fsync", raw_write_sync, bytes, 0);
  report("raw read (page cache)", raw_read, bytes, 0);
  std::filesystem::remove(raw_path);

  struct Case {
    const char* name;
    mi::CompressionOptions options;
  };
  const std::vector<Case> cases = {
      {"uncompressed", mi::CompressionOptions::none()},
      {"GZIP_2 lossless", mi::CompressionOptions::lossless_float()},
      {"GZIP_1 lossless", mi::CompressionOptions{mi::Compression::kGzip}},
      {"RICE_1 quantized q=16", mi::CompressionOptions::quantized_float(16)},
      {"RICE_1 quantized q=4", mi::CompressionOptions::quantized_float(4)},
  };
  const mi::Box2I cutout({1500, 1500}, {1024, 1024});
  for (const auto& c : cases) {
    const auto path = dir / "majordome_bench.fits";
    const int hdu = c.options.algorithm == mi::Compression::kNone ? 0 : 1;
    const double w = best_seconds(reps, [&] {
      mi::FitsFile f(path, mi::FitsMode::kOverwrite);
      f.write_image(image, {}, c.options);
      f.close();
    });
    const double ws = best_seconds(reps, [&] {
      mi::FitsFile f(path, mi::FitsMode::kOverwrite);
      f.write_image(image, {}, c.options);
      f.close();
      fsync_path(path);
    });
    const auto size = std::filesystem::file_size(path);
    const double r = best_seconds(reps, [&] {
      mi::FitsFile f(path, mi::FitsMode::kRead);
      f.move_to(hdu);
      const auto back = f.read_image<float>();
      if (back.width() != kSize) std::abort();
    });
    const double rs = best_seconds(reps, [&] {
      mi::FitsFile f(path, mi::FitsMode::kRead);
      f.move_to(hdu);
      const auto back = f.read_image<float>(cutout);
      if (back.width() != cutout.width()) std::abort();
    });
    std::printf("-- %s\n", c.name);
    report("  write", w, bytes, size);
    report("  write+fsync", ws, bytes, 0);
    report("  read", r, bytes, 0);
    report("  read 1024x1024 cutout", rs, static_cast<double>(cutout.area()) * sizeof(float), 0);
    std::filesystem::remove(path);
  }
  return 0;
}
