#include "majordome/datastore/checksum.hpp"

#include "majordome/core/error.hpp"
#include "posix_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cerrno>
#include <memory>
#include <vector>

namespace majordome::datastore {
namespace {

constexpr std::size_t kReadBlockBytes = std::size_t{4} << 20;

// Incremental BLAKE2b-512, the digest Python's hashlib.blake2b() gives by default.
class Blake2b {
 public:
  Blake2b() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_blake2b512(), nullptr) != 1) {
      throw InternalError("OpenSSL could not initialise BLAKE2b-512");
    }
  }
  void update(const void* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw InternalError("OpenSSL BLAKE2b update failed");
  }
  std::string hexdigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1) throw InternalError("OpenSSL BLAKE2b final failed");
    std::string out;
    out.reserve(2 * size);
    for (unsigned int i = 0; i < size; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

std::string blake2b_hexdigest(std::string_view bytes) {
  Blake2b hash;
  hash.update(bytes.data(), bytes.size());
  return hash.hexdigest();
}

ArtifactInfo artifact_info(const std::filesystem::path& path, ChecksumMode mode) {
  detail::FileDescriptor file = detail::open_for_reading(path);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) detail::throw_io_error(errno, "inspect", path);
  ArtifactInfo info;
  info.size_bytes = static_cast<std::int64_t>(st.st_size);
  if (mode == ChecksumMode::kNone) return info;

  ::posix_fadvise(file.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  Blake2b hash;
  std::vector<char> buffer(kReadBlockBytes);
  for (;;) {
    ssize_t n = ::read(file.get(), buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      detail::throw_io_error(errno, "read", path);
    }
    hash.update(buffer.data(), static_cast<std::size_t>(n));
  }
  info.checksum = hash.hexdigest();
  return info;
}

std::string blake2b_file_hexdigest(const std::filesystem::path& path) {
  return *artifact_info(path, ChecksumMode::kBlake2b).checksum;
}

std::int64_t file_size_bytes(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      throw NotFoundError(fmt::format("file '{}' does not exist", path.string()));
    }
    detail::throw_io_error(err, "inspect", path);
  }
  return static_cast<std::int64_t>(st.st_size);
}

}  // namespace majordome::datastore
