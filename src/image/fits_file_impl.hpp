// FitsFile internals shared by fits_file.cpp and fits_catalog.cpp (private).
#pragma once

#include <fitsio.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fits_cards.hpp"
#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::image {
namespace detail {

// cfitsio's own explanation of a failure: the status text and its message stack.
inline std::string cfitsio_message(int status) {
  char text[FLEN_STATUS] = {};
  ffgerr(status, text);
  std::string out = text;
  std::string stack;
  char msg[FLEN_ERRMSG] = {};
  while (ffgmsg(msg) != 0) {
    std::string m = msg;
    while (!m.empty() && m.back() == ' ') m.pop_back();
    if (m.empty()) continue;
    stack += (stack.empty() ? "" : "; ") + m;
  }
  if (!stack.empty()) out += " [" + stack + "]";
  return out;
}

enum class Failure { kCorrupt, kIo, kInvalid };

}  // namespace detail

struct FitsFile::Impl {
  fitsfile* fptr = nullptr;
  std::filesystem::path path;
  bool writable = false;
  bool stream_compressed = false;  // the whole file is gzip compressed
  // The gunzipped content of a gzip-compressed file, which cfitsio reads in place
  // (ffomem keeps the addresses of memory_address and memory_size until the file is closed).
  std::vector<char> memory;
  void* memory_address = nullptr;
  std::size_t memory_size = 0;

  std::string where() const {
    int hdu = 0;
    if (fptr != nullptr) ffghdn(fptr, &hdu);
    return path.string() + ": HDU " + std::to_string(hdu > 0 ? hdu - 1 : 0);
  }

  [[noreturn]] void fail(int status, const std::string& what, detail::Failure kind) const {
    const std::string message = where() + ": " + what + ": " + detail::cfitsio_message(status);
    switch (kind) {
      case detail::Failure::kIo: throw IoError(message);
      case detail::Failure::kInvalid: throw InvalidArgumentError(message);
      case detail::Failure::kCorrupt: break;
    }
    throw CorruptFileError(message);
  }
  void check(int status, const std::string& what, detail::Failure kind = detail::Failure::kCorrupt) const {
    if (status != 0) fail(status, what, kind);
  }
  void require_open() const {
    if (fptr == nullptr) throw InvalidArgumentError(path.string() + ": the FITS file is closed");
  }
  void require_writable() const {
    require_open();
    if (!writable) throw InvalidArgumentError(path.string() + ": opened read-only");
  }
  void require_image(const char* what) {
    int type = 0;
    int status = 0;
    ffghdt(fptr, &type, &status);
    check(status, "reading the HDU type");
    if (type != IMAGE_HDU) {
      throw InvalidArgumentError(where() + ": " + what + ": the HDU is a table, not an image");
    }
  }

  // Appends the valued and commentary cards of `header` (structural ones skipped).
  void write_cards(const Header& header, bool update);

  void work_around_stale_quantize_level();
  void check_trailing_bytes(int hdus);

  int current() const {
    int hdu = 0;
    ffghdn(fptr, &hdu);
    return hdu - 1;
  }
};

}  // namespace majordome::image
