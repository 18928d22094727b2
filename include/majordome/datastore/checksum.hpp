// File checksums and sizes for datastore records (spec/butler.md §6): Rubin records the
// blake2b hexdigest (Python hashlib.blake2b: BLAKE2b with a 64-byte digest) when the
// datastore's `checksum` option is on, and the size in bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace majordome::datastore {

// Lowercase hex BLAKE2b-512 digest (128 characters) of a file's content, read in large
// blocks. Throws NotFoundError for a missing file, IoError for a read error.
// Thread-safe.
std::string blake2b_file_hexdigest(const std::filesystem::path& path);

// Lowercase hex BLAKE2b-512 digest of bytes in memory.
std::string blake2b_hexdigest(std::string_view bytes);

// The size in bytes of a file (following symbolic links). Throws NotFoundError for a
// missing file, IoError otherwise.
std::int64_t file_size_bytes(const std::filesystem::path& path);

enum class ChecksumMode {
  kNone,     // size only (Rubin's default: `checksum: false`)
  kBlake2b,  // size and blake2b hexdigest
};

struct ArtifactInfo {
  std::int64_t size_bytes = 0;
  std::optional<std::string> checksum;  // set for ChecksumMode::kBlake2b
};

// Size and, if asked, checksum of one file, from a single open. Throws as above.
ArtifactInfo artifact_info(const std::filesystem::path& path, ChecksumMode mode);

}  // namespace majordome::datastore
