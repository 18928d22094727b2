#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// The fuzz target's properties hold on its seed corpus (the real fuzzing runs under Clang
// with -DMAJORDOME_FUZZ=ON; this keeps the harness compiling and honest under any compiler).
TEST(ExprFuzz, SeedCorpusReplaysCleanly) {
  const std::filesystem::path dir = MAJORDOME_SOURCE_DIR "/tests/unit/query/fuzz_corpus";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string bytes(std::filesystem::file_size(entry.path()), '\0');
    std::ifstream(entry.path(), std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
    ++files;
  }
  EXPECT_GE(files, 40);
}

}  // namespace
