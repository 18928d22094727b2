#include "majordome/image/fits_file.hpp"

#include <fitsio.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <span>
#include <system_error>
#include <vector>

#include "fits_cards.hpp"
#include "fits_file_impl.hpp"
#include "fits_structure.hpp"
#include "majordome/core/error.hpp"

namespace majordome::image {

using detail::iequals;

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kRice: return "RICE_1";
    case Compression::kGzip: return "GZIP_1";
    case Compression::kGzipShuffle: return "GZIP_2";
    case Compression::kHcompress: return "HCOMPRESS_1";
    case Compression::kPlio: return "PLIO_1";
  }
  return "?";
}

bool is_structural_keyword(std::string_view keyword) {
  const std::string k = detail::to_upper(keyword);
  static constexpr std::array<std::string_view, 36> kExact = {
      "SIMPLE", "BITPIX", "NAXIS", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "BZERO", "BSCALE",
      "BLANK", "TFIELDS", "THEAP", "CHECKSUM", "DATASUM", "END", "LONGSTRN", "ZIMAGE", "ZCMPTYPE",
      "ZBITPIX", "ZNAXIS", "ZQUANTIZ", "ZDITHER0", "ZSIMPLE", "ZTENSION", "ZEXTEND", "ZBLOCKED",
      "ZPCOUNT", "ZGCOUNT", "ZHECKSUM", "ZDATASUM", "ZBLANK", "ZSCALE", "ZZERO", "ZTHEAP",
      "GROUPS", "ZTABLE"};
  if (std::ranges::find(kExact, k) != kExact.end()) return true;
  // Indexed keywords: ROOT followed by digits.
  static constexpr std::array<std::string_view, 24> kIndexed = {
      "NAXIS", "TTYPE", "TFORM", "TUNIT", "TDISP", "TDIM",  "TNULL", "TSCAL",
      "TZERO", "TBCOL", "TDMIN", "TDMAX", "TLMIN", "TLMAX", "TDOC",  "TCOMM",
      "TUCD",  "ZNAXIS", "ZTILE", "ZNAME", "ZVAL", "ZFORM", "ZCTYP", "PTYPE"};
  for (auto root : kIndexed) {
    if (k.size() > root.size() && k.compare(0, root.size(), root) == 0 &&
        std::all_of(k.begin() + static_cast<std::ptrdiff_t>(root.size()), k.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      return true;
    }
  }
  return false;
}

namespace {

template <typename T>
constexpr int cfitsio_datatype() {
  if constexpr (std::is_same_v<T, float>) return TFLOAT;
  if constexpr (std::is_same_v<T, double>) return TDOUBLE;
  if constexpr (std::is_same_v<T, std::int32_t>) return TINT;
  if constexpr (std::is_same_v<T, std::uint16_t>) return TUSHORT;
  if constexpr (std::is_same_v<T, std::uint32_t>) return TUINT;
}

template <typename T>
constexpr int cfitsio_bitpix() {
  if constexpr (std::is_same_v<T, float>) return FLOAT_IMG;
  if constexpr (std::is_same_v<T, double>) return DOUBLE_IMG;
  if constexpr (std::is_same_v<T, std::int32_t>) return LONG_IMG;
  if constexpr (std::is_same_v<T, std::uint16_t>) return USHORT_IMG;
  if constexpr (std::is_same_v<T, std::uint32_t>) return ULONG_IMG;
}

template <typename T>
constexpr const char* pixel_type_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, double>) return "float64";
  if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  if constexpr (std::is_same_v<T, std::uint16_t>) return "uint16";
  if constexpr (std::is_same_v<T, std::uint32_t>) return "uint32";
}

Compression compression_from_name(std::string_view name) {
  if (name == "RICE_1" || name == "RICE_ONE") return Compression::kRice;
  if (name == "GZIP_1") return Compression::kGzip;
  if (name == "GZIP_2") return Compression::kGzipShuffle;
  if (name == "HCOMPRESS_1") return Compression::kHcompress;
  if (name == "PLIO_1") return Compression::kPlio;
  return Compression::kNone;
}

enum class WholeFileCompression { kNone, kGzip, kOther };

// Reads the first bytes to tell "not FITS" and "too short" apart from other corruption,
// which cfitsio reports only as a read error, and to see whether the file is compressed as
// a whole (gzip, bzip2, compress, zip).
WholeFileCompression precheck_readable(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw NotFoundError(path.string() + ": no such file");
  }
  if (std::filesystem::is_directory(status)) {
    throw IoError(path.string() + ": is a directory, not a FITS file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading (permission denied?)");
  std::array<char, 80> head{};
  in.read(head.data(), head.size());
  const auto n = static_cast<std::size_t>(in.gcount());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(head[i]); };
  if (n >= 2 && byte(0) == 0x1f && byte(1) == 0x8b) return WholeFileCompression::kGzip;
  if ((n >= 2 && byte(0) == 0x1f && byte(1) == 0x9d) ||
      (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') ||
      (n >= 2 && head[0] == 'P' && head[1] == 'K')) {
    return WholeFileCompression::kOther;
  }
  if (n == 0) throw CorruptFileError(path.string() + ": empty file, not a FITS file");
  if (n < 10 || std::string_view(head.data(), 9) != "SIMPLE  =") {
    throw CorruptFileError(path.string() +
                           ": not a FITS file (it does not begin with 'SIMPLE  =')");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size < 2880) {
    throw CorruptFileError(path.string() + ": truncated FITS file (" + std::to_string(size) +
                           " bytes; the primary header alone takes at least 2880)");
  }
  return WholeFileCompression::kNone;
}

// Checks the headers of a plain file on disk (see fits_structure.hpp).
void check_file_structure(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading (permission denied?)");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(path.string() + ": cannot read its size: " + ec.message());
  detail::FitsBytes bytes;
  bytes.size = size;
  // A small file (a raw's headers with little data: tens of header blocks) is read once and
  // walked in memory, instead of a seek and a read per header block; a large one is walked
  // on disk, reading only its headers.
  constexpr std::uint64_t kReadWholeBytes = std::uint64_t{4} << 20;
  std::vector<char> whole;
  if (size <= kReadWholeBytes) {
    whole.resize(size);
    in.read(whole.data(), static_cast<std::streamsize>(size));
    whole.resize(static_cast<std::size_t>(in.gcount()));  // what is there, should it have shrunk
    bytes.read = [&whole](std::uint64_t offset, std::span<char> out) -> std::size_t {
      if (offset >= whole.size()) return 0;
      const std::size_t n = std::min<std::size_t>(out.size(), whole.size() - offset);
      std::memcpy(out.data(), whole.data() + offset, n);
      return n;
    };
  } else {
    bytes.read = [&in](std::uint64_t offset, std::span<char> out) {
      in.clear();
      in.seekg(static_cast<std::streamoff>(offset));
      in.read(out.data(), static_cast<std::streamsize>(out.size()));
      return static_cast<std::size_t>(in.gcount());
    };
  }
  detail::check_fits_structure(bytes, path.string());
}

// The whole content of a gzip-compressed file, so that its headers can be checked before
// cfitsio parses them (cfitsio would decompress it into memory just the same).
std::vector<char> gunzip(const std::filesystem::path& path) {
  gzFile in = gzopen(path.c_str(), "rb");
  if (in == nullptr) throw IoError(path.string() + ": cannot open for reading (permission denied?)");
  std::vector<char> out;
  constexpr unsigned kChunk = 1U << 20;
  for (;;) {
    const std::size_t at = out.size();
    out.resize(at + kChunk);
    const int n = gzread(in, out.data() + at, kChunk);
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(in, &code);
      gzclose(in);
      throw CorruptFileError(path.string() + ": damaged gzip stream: " + message);
    }
    out.resize(at + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  int code = 0;
  const std::string message = gzerror(in, &code);
  gzclose(in);
  if (code != Z_OK) throw CorruptFileError(path.string() + ": damaged gzip stream: " + message);
  if (out.empty()) throw CorruptFileError(path.string() + ": empty gzip stream, not a FITS file");
  if (out.size() < 10 || std::string_view(out.data(), 9) != "SIMPLE  =") {
    throw CorruptFileError(path.string() +
                           ": not a FITS file once gunzipped (it does not begin with 'SIMPLE  =')");
  }
  if (out.size() < 2880) {
    throw CorruptFileError(path.string() + ": truncated FITS file (" + std::to_string(out.size()) +
                           " bytes once gunzipped; the primary header alone takes at least 2880)");
  }
  return out;
}

}  // namespace

void FitsFile::Impl::write_cards(const Header& header, bool update) {
    int status = 0;
    bool any_continue = false;
    for (const auto& card : header) {
      if (!card.is_commentary() && is_structural_keyword(card.keyword)) continue;
      if (detail::is_cfitsio_boilerplate(card)) continue;
      std::vector<std::string> images;
      try {
        images = detail::format_card(card);
      } catch (const InvalidArgumentError& e) {
        throw InvalidArgumentError(where() + ": " + e.what());
      }
      if (update && !card.is_commentary()) {
        if (images.size() == 1) {
          ffucrd(fptr, card.keyword.c_str(), images[0].c_str(), &status);
          check(status, "writing keyword " + card.keyword, detail::Failure::kIo);
          continue;
        }
        ffdkey(fptr, card.keyword.c_str(), &status);
        if (status == KEY_NO_EXIST) {
          status = 0;
          ffcmsg();
        }
      }
      for (const auto& image : images) {
        ffprec(fptr, image.c_str(), &status);
        check(status, "writing keyword " + card.keyword, detail::Failure::kIo);
      }
      any_continue = any_continue || (images.size() > 1 && !card.is_commentary());
    }
    if (any_continue) {
      char card[FLEN_CARD] = {};
      ffgcrd(fptr, "LONGSTRN", card, &status);
      if (status == KEY_NO_EXIST) {
        status = 0;
        ffcmsg();
        ffplsw(fptr, &status);
      }
      check(status, "writing LONGSTRN", detail::Failure::kIo);
    }
  }

// cfitsio 4.2 keeps the quantize level of the last compressed HDU it visited: after a
// losslessly compressed float HDU (ZQUANTIZ = 'NONE'), a quantized one in the same file
// is decoded as if it were lossless, giving garbage. Reset it when entering a quantized HDU.
void FitsFile::Impl::work_around_stale_quantize_level() {
  int status = 0;
  if (fits_is_compressed_image(fptr, &status) == 0 || status != 0) return;
  int zbitpix = 0;
  ffgky(fptr, TINT, "ZBITPIX", &zbitpix, nullptr, &status);
  char method[FLEN_VALUE] = {};
  int s2 = 0;
  ffgkys(fptr, "ZQUANTIZ", method, nullptr, &s2);
  ffcmsg();
  const bool quantized = status == 0 && zbitpix < 0 && std::string_view(method) != "NONE";
  constexpr float kNoQuantize = 9999.0F;  // cfitsio's NO_QUANTIZE marker
  if (quantized && fptr->Fptr->quantize_level == kNoQuantize) fptr->Fptr->quantize_level = 0.0F;
}

// What follows the last HDU cfitsio found: nothing, padding garbage (ignored, as in the
// ESO test file), or the start of an extension cfitsio gave up on (a truncated file).
void FitsFile::Impl::check_trailing_bytes(int hdus) {
  const int here = current();
  int status = 0;
  int type = 0;
  ffmahd(fptr, hdus, &type, &status);
  LONGLONG head = 0, data = 0, end = 0;
  ffghadll(fptr, &head, &data, &end, &status);
  ffmahd(fptr, here + 1, &type, &status);
  check(status, "locating the end of the last HDU");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || static_cast<LONGLONG>(size) <= end) return;
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(end));
  std::array<char, 8> next{};
  in.read(next.data(), next.size());
  if (in.gcount() == 8 && std::string_view(next.data(), 8) == "XTENSION") {
    throw CorruptFileError(path.string() + ": HDU " + std::to_string(hdus) +
                           " (at byte " + std::to_string(end) +
                           ") is truncated or damaged: its header cannot be read");
  }
}

FitsFile::FitsFile(const std::filesystem::path& path, FitsMode mode)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  int status = 0;
  const std::string name = path.string();
  switch (mode) {
    case FitsMode::kRead:
    case FitsMode::kReadWrite:
      switch (precheck_readable(path)) {
        case WholeFileCompression::kNone:
          check_file_structure(path);
          ffdkopn(&impl_->fptr, name.c_str(), mode == FitsMode::kRead ? READONLY : READWRITE, &status);
          break;
        case WholeFileCompression::kGzip: {
          if (mode != FitsMode::kRead) {
            throw UnsupportedError(name + ": gzip-compressed as a whole: it can be opened for reading only");
          }
          impl_->memory = gunzip(path);
          detail::FitsBytes bytes;
          bytes.size = impl_->memory.size();
          bytes.read = [this](std::uint64_t offset, std::span<char> out) {
            const auto n = std::min<std::uint64_t>(out.size(), impl_->memory.size() - offset);
            std::memcpy(out.data(), impl_->memory.data() + offset, static_cast<std::size_t>(n));
            return static_cast<std::size_t>(n);
          };
          detail::check_fits_structure(bytes, name);
          impl_->stream_compressed = true;
          impl_->memory_address = impl_->memory.data();
          impl_->memory_size = impl_->memory.size();
          // A plain name: cfitsio would read brackets in the real one as an HDU selector.
          ffomem(&impl_->fptr, "gunzipped.fits", READONLY, &impl_->memory_address, &impl_->memory_size, 0,
                 nullptr, &status);
          break;
        }
        case WholeFileCompression::kOther:
          // cfitsio would decompress these itself, where their headers cannot be checked first.
          throw UnsupportedError(name + ": compressed as a whole with bzip2, compress or zip: only gzip-"
                                 "compressed FITS files are read; decompress it first");
      }
      if (status != 0) {
        impl_->fptr = nullptr;
        throw CorruptFileError(name + ": cannot be read as FITS: " + detail::cfitsio_message(status));
      }
      impl_->writable = mode == FitsMode::kReadWrite;
      break;
    case FitsMode::kCreate:
    case FitsMode::kOverwrite: {
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) {
        if (mode == FitsMode::kCreate) throw ConflictError(name + ": file already exists");
        std::filesystem::remove(path, ec);
        if (ec) throw IoError(name + ": cannot replace the existing file: " + ec.message());
      }
      ffdkinit(&impl_->fptr, name.c_str(), &status);
      if (status != 0) {
        impl_->fptr = nullptr;
        throw IoError(name + ": cannot create: " + detail::cfitsio_message(status));
      }
      impl_->writable = true;
      break;
    }
  }
}

FitsFile::~FitsFile() {
  if (impl_ && impl_->fptr != nullptr) {
    try {
      close();
    } catch (const std::exception& e) {
      spdlog::warn("{}", e.what());
    }
  }
}

FitsFile::FitsFile(FitsFile&&) noexcept = default;

FitsFile& FitsFile::operator=(FitsFile&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->fptr != nullptr) {
      try {
        close();
      } catch (const std::exception& e) {
        spdlog::warn("{}", e.what());
      }
    }
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void FitsFile::close() {
  if (!impl_ || impl_->fptr == nullptr) return;
  int status = 0;
  int hdus = 0;
  // Counting HDUs walks the whole file: only a file being written can be empty.
  if (impl_->writable) ffthdu(impl_->fptr, &hdus, &status);
  const bool empty_new_file = impl_->writable && status == 0 && hdus == 0;
  status = 0;
  ffclos(impl_->fptr, &status);
  impl_->fptr = nullptr;
  if (empty_new_file) {
    // Nothing was written: cfitsio complains about the missing primary HDU, but an empty
    // file is the honest result.
    ffcmsg();
    return;
  }
  if (status != 0) {
    throw IoError(impl_->path.string() + ": error while closing: " + detail::cfitsio_message(status));
  }
}

const std::filesystem::path& FitsFile::path() const { return impl_->path; }

int FitsFile::hdu_count() {
  impl_->require_open();
  int n = 0;
  int status = 0;
  // cfitsio stops quietly at garbage that is not an extension (such as the bogus END
  // block after the ESO test file's data); a damaged extension is an error.
  ffthdu(impl_->fptr, &n, &status);
  impl_->check(status, "counting the HDUs (an extension header is damaged or truncated)");
  if (!impl_->writable && !impl_->stream_compressed && n > 0) impl_->check_trailing_bytes(n);
  return n;
}

int FitsFile::current_hdu() const {
  impl_->require_open();
  return impl_->current();
}

void FitsFile::move_to(int index) {
  impl_->require_open();
  int status = 0;
  int type = 0;
  if (index < 0) throw NotFoundError(impl_->path.string() + ": no HDU " + std::to_string(index));
  ffmahd(impl_->fptr, index + 1, &type, &status);
  if (status == END_OF_FILE) {
    ffcmsg();
    throw NotFoundError(impl_->path.string() + ": no HDU " + std::to_string(index) +
                        " (the file has " + std::to_string(hdu_count()) + ")");
  }
  impl_->check(status, "moving to HDU " + std::to_string(index));
  impl_->work_around_stale_quantize_level();
}

std::optional<int> FitsFile::find_extname(std::string_view extname, std::optional<int> extver) {
  impl_->require_open();
  const int here = impl_->current();
  const int n = hdu_count();
  std::optional<int> found;
  for (int i = 0; i < n && !found; ++i) {
    move_to(i);
    char value[FLEN_VALUE] = {};
    int status = 0;
    ffgkys(impl_->fptr, "EXTNAME", value, nullptr, &status);
    if (status != 0) {
      ffcmsg();
      continue;
    }
    if (!iequals(value, extname)) continue;
    if (extver) {
      long v = 1;
      status = 0;
      ffgkyj(impl_->fptr, "EXTVER", &v, nullptr, &status);
      if (status != 0) ffcmsg();
      if (v != *extver) continue;
    }
    found = i;
  }
  move_to(found.value_or(here));
  return found;
}

void FitsFile::move_to_extname(std::string_view extname) {
  if (auto i = find_extname(extname)) {
    move_to(*i);
    return;
  }
  throw NotFoundError(impl_->path.string() + ": no HDU with EXTNAME '" + std::string(extname) +
                      "'");
}

HduType FitsFile::hdu_type() {
  impl_->require_open();
  int type = 0;
  int status = 0;
  ffghdt(impl_->fptr, &type, &status);
  impl_->check(status, "reading the HDU type");
  if (type == ASCII_TBL) return HduType::kAsciiTable;
  if (type == BINARY_TBL) return HduType::kBinaryTable;
  return HduType::kImage;
}

Header FitsFile::read_header() {
  impl_->require_open();
  char* text = nullptr;
  int nkeys = 0;
  int status = 0;
  ffcnvthdr2str(impl_->fptr, 0, nullptr, 0, &text, &nkeys, &status);
  if (status != 0) {
    if (text != nullptr) fffree(text, &status);
    impl_->fail(status, "reading the header", detail::Failure::kCorrupt);
  }
  std::string cards(text, std::strlen(text));
  status = 0;
  fffree(text, &status);
  Header header;
  for (auto& card : detail::parse_cards(cards, impl_->where())) header.append(std::move(card));
  return header;
}

void FitsFile::write_keys(const Header& cards) {
  impl_->require_writable();
  impl_->write_cards(cards, true);
}

ImageHduInfo FitsFile::image_info() {
  impl_->require_open();
  impl_->require_image("image_info");
  ImageHduInfo info;
  int status = 0;
  ffgidt(impl_->fptr, &info.bitpix, &status);
  ffgiet(impl_->fptr, &info.equivalent_bitpix, &status);
  int naxis = 0;
  ffgidm(impl_->fptr, &naxis, &status);
  impl_->check(status, "reading the image dimensions");
  if (naxis > 0) {
    std::vector<LONGLONG> dims(static_cast<std::size_t>(naxis));
    ffgiszll(impl_->fptr, naxis, dims.data(), &status);
    impl_->check(status, "reading the image size");
    for (auto d : dims) info.shape.push_back(static_cast<long>(d));
  }
  if (fits_is_compressed_image(impl_->fptr, &status) != 0) {
    char value[FLEN_VALUE] = {};
    int s = 0;
    ffgkys(impl_->fptr, "ZCMPTYPE", value, nullptr, &s);
    if (s != 0) ffcmsg();
    info.compression = compression_from_name(value);
  }
  impl_->check(status, "reading the compression type");
  return info;
}

namespace {

// Width and height of a 2-D image (NAXIS 1..3 with trailing axes of length 1).
Extent2I image_extent(const ImageHduInfo& info, const std::string& where) {
  if (info.shape.empty()) {
    throw InvalidArgumentError(where + ": the HDU has no image data (NAXIS = 0)");
  }
  for (std::size_t i = 2; i < info.shape.size(); ++i) {
    if (info.shape[i] != 1) {
      throw UnsupportedError(where + ": only 2-D images can be read (NAXIS" +
                             std::to_string(i + 1) + " = " + std::to_string(info.shape[i]) + ")");
    }
  }
  const long w = info.shape[0];
  const long h = info.shape.size() > 1 ? info.shape[1] : 1;
  if (w > std::numeric_limits<int>::max() || h > std::numeric_limits<int>::max()) {
    throw UnsupportedError(where + ": image too large");
  }
  return {static_cast<int>(w), static_cast<int>(h)};
}

}  // namespace

template <typename T>
Image<T> FitsFile::read_image() {
  impl_->require_open();
  const auto info = image_info();
  const Extent2I dims = image_extent(info, impl_->where());
  Image<T> image(dims.width, dims.height);
  if (image.empty()) return image;
  int status = 0;
  int anynul = 0;
  std::vector<LONGLONG> first(std::max<std::size_t>(info.shape.size(), 1), 1);
  ffgpxvll(impl_->fptr, cfitsio_datatype<T>(), first.data(), image.bbox().area(), nullptr,
           image.data(), &anynul, &status);
  if (status == NUM_OVERFLOW) {
    ffcmsg();
    throw InvalidArgumentError(impl_->where() + ": pixel values do not fit in " +
                               pixel_type_name<T>() + "; read the image with a wider type");
  }
  impl_->check(status, "reading the pixels");
  return image;
}

template <typename T>
Image<T> FitsFile::read_image(const Box2I& region) {
  impl_->require_open();
  const auto info = image_info();
  const Extent2I dims = image_extent(info, impl_->where());
  const Box2I full({0, 0}, dims);
  if (!full.contains(region)) {
    throw InvalidArgumentError(impl_->where() + ": region " + region.str() +
                               " is not inside the image " + full.str());
  }
  Image<T> image(region);
  if (region.empty()) return image;
  std::vector<long> fpixel(std::max<std::size_t>(info.shape.size(), 2), 1);
  std::vector<long> lpixel(fpixel.size(), 1);
  std::vector<long> inc(fpixel.size(), 1);
  fpixel[0] = region.min_x() + 1;
  fpixel[1] = region.min_y() + 1;
  lpixel[0] = region.max_x() + 1;
  lpixel[1] = region.max_y() + 1;
  int status = 0;
  int anynul = 0;
  ffgsv(impl_->fptr, cfitsio_datatype<T>(), fpixel.data(), lpixel.data(), inc.data(), nullptr,
        image.data(), &anynul, &status);
  if (status == NUM_OVERFLOW) {
    ffcmsg();
    throw InvalidArgumentError(impl_->where() + ": pixel values do not fit in " +
                               pixel_type_name<T>());
  }
  impl_->check(status, "reading the pixels of " + region.fits_section());
  return image;
}

namespace {

int cfitsio_compression(Compression c) {
  switch (c) {
    case Compression::kNone: return NOCOMPRESS;
    case Compression::kRice: return RICE_1;
    case Compression::kGzip: return GZIP_1;
    case Compression::kGzipShuffle: return GZIP_2;
    case Compression::kHcompress: return HCOMPRESS_1;
    case Compression::kPlio: return PLIO_1;
  }
  return NOCOMPRESS;
}

}  // namespace

template <typename T>
int FitsFile::write_image(const Image<T>& image, const Header& header,
                          const CompressionOptions& compression) {
  impl_->require_writable();
  fitsfile* f = impl_->fptr;
  int status = 0;
  const bool compress = compression.algorithm != Compression::kNone;
  constexpr bool kFloating = std::is_floating_point_v<T>;
  if (compress) {
    if (image.empty()) {
      throw InvalidArgumentError(impl_->path.string() + ": cannot tile-compress an empty image");
    }
    if (kFloating && compression.quantize_level == 0.0F &&
        compression.algorithm != Compression::kGzip &&
        compression.algorithm != Compression::kGzipShuffle) {
      throw InvalidArgumentError(
          impl_->path.string() + ": lossless compression of floating-point pixels needs GZIP_1 "
          "or GZIP_2 (" + std::string(compression_name(compression.algorithm)) +
          " requires quantization: set quantize_level)");
    }
    if (compression.algorithm == Compression::kPlio && kFloating) {
      throw InvalidArgumentError(impl_->path.string() + ": PLIO_1 compresses integer masks only");
    }
    if (compression.tile_width < 0 || compression.tile_height < 1 || compression.dither_seed < 1 ||
        compression.dither_seed > 10000) {
      throw InvalidArgumentError(impl_->path.string() +
                                 ": tile sizes must be positive and the dither seed in 1..10000");
    }
    std::array<long, 2> tile = {compression.tile_width == 0 ? image.width() : compression.tile_width,
                                compression.tile_height};
    fits_set_compression_type(f, cfitsio_compression(compression.algorithm), &status);
    fits_set_tile_dim(f, 2, tile.data(), &status);
    if (kFloating) {
      fits_set_quantize_level(f, compression.quantize_level, &status);
      const int method = compression.dither == Dither::kNone         ? NO_DITHER
                         : compression.dither == Dither::kSubtractive2 ? SUBTRACTIVE_DITHER_2
                                                                        : SUBTRACTIVE_DITHER_1;
      fits_set_quantize_method(f, method, &status);
      fits_set_dither_seed(f, compression.dither_seed, &status);
    }
    impl_->check(status, "setting up compression", detail::Failure::kInvalid);
  }
  std::array<LONGLONG, 2> naxes = {image.width(), image.height()};
  ffcrimll(f, cfitsio_bitpix<T>(), 2, naxes.data(), &status);
  int reset = 0;
  if (compress) fits_set_compression_type(f, NOCOMPRESS, &reset);
  impl_->check(status, "creating the image HDU", detail::Failure::kIo);
  impl_->write_cards(header, false);
  if (!image.empty()) {
    if (image.is_contiguous()) {
      std::array<LONGLONG, 2> first = {1, 1};
      ffppxll(f, cfitsio_datatype<T>(), first.data(), image.bbox().area(), image.data(), &status);
    } else {
      for (int y = 0; y < image.height() && status == 0; ++y) {
        std::array<LONGLONG, 2> first = {1, y + 1};
        ffppxll(f, cfitsio_datatype<T>(), first.data(), image.width(), image.row(y).data(),
                &status);
      }
    }
    impl_->check(status, "writing the pixels", detail::Failure::kIo);
  }
  // Leave the new HDU complete on disk so later moves see its final size.
  ffflus(f, &status);
  impl_->check(status, "flushing the image", detail::Failure::kIo);
  return impl_->current();
}

int FitsFile::write_empty_image(const Header& header) {
  impl_->require_writable();
  int status = 0;
  ffcrimll(impl_->fptr, BYTE_IMG, 0, nullptr, &status);
  impl_->check(status, "creating a header-only HDU", detail::Failure::kIo);
  impl_->write_cards(header, false);
  ffflus(impl_->fptr, &status);
  impl_->check(status, "flushing the header", detail::Failure::kIo);
  return impl_->current();
}

template Image<float> FitsFile::read_image<float>();
template Image<float> FitsFile::read_image<float>(const Box2I&);
template int FitsFile::write_image<float>(const Image<float>&, const Header&,
                                             const CompressionOptions&);
template Image<double> FitsFile::read_image<double>();
template Image<double> FitsFile::read_image<double>(const Box2I&);
template int FitsFile::write_image<double>(const Image<double>&, const Header&,
                                             const CompressionOptions&);
template Image<std::int32_t> FitsFile::read_image<std::int32_t>();
template Image<std::int32_t> FitsFile::read_image<std::int32_t>(const Box2I&);
template int FitsFile::write_image<std::int32_t>(const Image<std::int32_t>&, const Header&,
                                             const CompressionOptions&);
template Image<std::uint16_t> FitsFile::read_image<std::uint16_t>();
template Image<std::uint16_t> FitsFile::read_image<std::uint16_t>(const Box2I&);
template int FitsFile::write_image<std::uint16_t>(const Image<std::uint16_t>&, const Header&,
                                             const CompressionOptions&);
template Image<std::uint32_t> FitsFile::read_image<std::uint32_t>();
template Image<std::uint32_t> FitsFile::read_image<std::uint32_t>(const Box2I&);
template int FitsFile::write_image<std::uint32_t>(const Image<std::uint32_t>&, const Header&,
                                             const CompressionOptions&);

}  // namespace majordome::image
