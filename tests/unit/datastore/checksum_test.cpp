#include "majordome/core/error.hpp"
#include "majordome/datastore/checksum.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace majordome::datastore {
namespace {

using testing::TempDir;
using testing::write_file;

// Reference digests from Python: hashlib.blake2b(data).hexdigest().
constexpr const char* kEmpty =
    "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d5"
    "6f701afe9be2ce";
constexpr const char* kAbc =
    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab9"
    "2386edd4009923";

TEST(Checksum, KnownBlake2bDigests) {
  EXPECT_EQ(blake2b_hexdigest(""), kEmpty);
  EXPECT_EQ(blake2b_hexdigest("abc"), kAbc);
  TempDir tmp;
  write_file(tmp / "abc", "abc");
  EXPECT_EQ(blake2b_file_hexdigest(tmp / "abc"), kAbc);
  write_file(tmp / "empty", "");
  EXPECT_EQ(blake2b_file_hexdigest(tmp / "empty"), kEmpty);
}

TEST(Checksum, FileSpanningManyBlocksMatchesInMemoryDigest) {
  std::string content(9 * 1024 * 1024 + 3, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 7919) >> 3);
  TempDir tmp;
  write_file(tmp / "big", content);
  EXPECT_EQ(blake2b_file_hexdigest(tmp / "big"), blake2b_hexdigest(content));
  auto info = artifact_info(tmp / "big", ChecksumMode::kBlake2b);
  EXPECT_EQ(info.size_bytes, static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(info.checksum, blake2b_hexdigest(content));
}

TEST(Checksum, SizesAndMissingFiles) {
  TempDir tmp;
  write_file(tmp / "f", "12345");
  EXPECT_EQ(file_size_bytes(tmp / "f"), 5);
  auto info = artifact_info(tmp / "f", ChecksumMode::kNone);
  EXPECT_EQ(info.size_bytes, 5);
  EXPECT_FALSE(info.checksum);
  EXPECT_THROW(file_size_bytes(tmp / "missing"), NotFoundError);
  EXPECT_THROW(blake2b_file_hexdigest(tmp / "missing"), NotFoundError);
  EXPECT_THROW(artifact_info(tmp / "missing", ChecksumMode::kNone), NotFoundError);
}

}  // namespace
}  // namespace majordome::datastore
