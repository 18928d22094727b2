// Helpers shared by the image tests: scratch directories and the shared data folder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace majordome::image::testing {

// A fresh directory removed when the object goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("majordome_image_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path shared_images() {
  return std::filesystem::path(MAJORDOME_SHARED_DATA) / "images";
}

inline std::filesystem::path shared_data() { return std::filesystem::path(MAJORDOME_SHARED_DATA); }

inline std::string read_bytes(const std::filesystem::path& p) {
  std::string bytes(std::filesystem::file_size(p), '\0');
  std::ifstream in(p, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace majordome::image::testing

// Skips the current test when ../shared/data is not there (e.g. a bare clone).
#define MAJORDOME_REQUIRE_SHARED_DATA()                                                   \
  do {                                                                                    \
    if (!std::filesystem::exists(::majordome::image::testing::shared_images())) {         \
      GTEST_SKIP() << "shared data not found at " MAJORDOME_SHARED_DATA                   \
                   << " (the real-data tests need ../shared/data)";                       \
    }                                                                                     \
  } while (false)
