// FitsFile: reading and writing FITS files (single and multi-extension) through cfitsio.
//
// HDUs are numbered from 0 (the primary HDU). Writes always append a new HDU at the end
// of the file. Tile-compressed images (cfitsio's CompImage convention, what `fpack` makes)
// are read transparently and written when CompressionOptions asks; they can only live in
// extensions, so a compressed image written into an empty file gets an empty primary HDU
// in front of it.
//
// Errors: a missing file → NotFoundError; the OS refusing to read or write → IoError;
// content that cannot be used (not FITS, truncated, missing END, bad BITPIX, …) →
// CorruptFileError. Every message names the file, the HDU and cfitsio's explanation.
// Opening a file for reading first walks all its HDU headers without cfitsio and refuses
// (CorruptFileError naming the HDU and the keyword) a garbled primary header, a missing or
// non-integer NAXISn, NAXIS above 99 in any HDU (cfitsio 4.2 overruns its memory and
// crashes on those) and axis lengths whose data size passes 2^63 bytes; a data unit cut
// short is still reported only when its pixels are read. A file gzip-compressed as a whole
// is gunzipped into memory (and can only be opened kRead); other whole-file compressions
// (bzip2, compress, zip) → UnsupportedError.
// Paths are plain paths: cfitsio's extended syntax ("file.fits[1]") is not interpreted.
//
// A FitsFile is not thread-safe (one per thread); distinct FitsFiles on distinct files
// may be used concurrently (Debian's cfitsio is built reentrant). cfitsio shares one
// handle per file within a process: a file open read-only cannot be opened read-write
// until every reader has closed it (CorruptFileError "cannot reopen").
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/header.hpp"
#include "majordome/image/image.hpp"

namespace majordome::image {

enum class FitsMode {
  kRead,       // existing file, read only
  kReadWrite,  // existing file, append HDUs / update keywords
  kCreate,     // new file; ConflictError if it exists
  kOverwrite,  // new file, replacing any existing one
};

enum class HduType { kImage, kAsciiTable, kBinaryTable };

enum class Compression {
  kNone,
  kRice,         // RICE_1: fast, lossless on integers; floats need quantization
  kGzip,         // GZIP_1: lossless for any type
  kGzipShuffle,  // GZIP_2: GZIP after byte shuffling, usually better on floats
  kHcompress,    // HCOMPRESS_1 (lossless on integers with scale 0)
  kPlio,         // PLIO_1: for masks (values < 2^24)
};

// "none", "RICE_1", "GZIP_1", "GZIP_2", "HCOMPRESS_1", "PLIO_1".
std::string_view compression_name(Compression c);

enum class Dither { kNone, kSubtractive1, kSubtractive2 };

// How to tile-compress an image HDU.
struct CompressionOptions {
  Compression algorithm = Compression::kNone;
  // Tile size in pixels; 0 width means the image width (cfitsio's default: one tile per
  // row when tile_height is 1).
  int tile_width = 0;
  int tile_height = 1;
  // Floating-point images only. 0: lossless (no quantization; needs a GZIP algorithm).
  // > 0: quantized so that the quantum is the background noise sigma / quantize_level
  // (fpack's -q); < 0: the quantum is -quantize_level in pixel units.
  float quantize_level = 0.0F;
  Dither dither = Dither::kSubtractive1;
  // Dither seed 1..10000 (fixed for reproducible files).
  int dither_seed = 1;

  // No compression.
  static CompressionOptions none() { return {}; }
  // RICE_1, lossless: integer raws and masks.
  static CompressionOptions lossless_integer() { return {Compression::kRice}; }
  // GZIP_2 without quantization: bit-exact floats.
  static CompressionOptions lossless_float() { return {Compression::kGzipShuffle}; }
  // RICE_1 on floats quantized at sigma/level (lossy; 4..16 keeps the noise statistics).
  static CompressionOptions quantized_float(float level = 16.0F) {
    CompressionOptions o{Compression::kRice};
    o.quantize_level = level;
    return o;
  }
};

struct ImageHduInfo {
  // BITPIX as stored (for a compressed HDU, that of the uncompressed image: ZBITPIX).
  int bitpix = 0;
  // The BITPIX of the values once BZERO/BSCALE are applied (16 with BZERO 32768 → 20,
  // cfitsio's USHORT_IMG).
  int equivalent_bitpix = 0;
  // NAXISn in order: {NAXIS1 (width), NAXIS2 (height), ...}; empty when NAXIS = 0.
  std::vector<long> shape;
  Compression compression = Compression::kNone;
};

class FitsFile {
 public:
  FitsFile(const std::filesystem::path& path, FitsMode mode);
  ~FitsFile();  // closes the file; an error at that point is logged (call close() to see it)
  FitsFile(FitsFile&&) noexcept;
  FitsFile& operator=(FitsFile&&) noexcept;
  FitsFile(const FitsFile&) = delete;
  FitsFile& operator=(const FitsFile&) = delete;

  // Flushes and closes; throws on failure. Further calls do nothing.
  void close();
  const std::filesystem::path& path() const;

  // The number of HDUs. Garbage after the last complete HDU that does not look like an
  // extension (the bogus trailing block of some old files) is ignored; a damaged or
  // truncated extension header throws CorruptFileError.
  int hdu_count();
  // The current HDU (0-based).
  int current_hdu() const;
  // Throws NotFoundError when there is no HDU `index`.
  void move_to(int index);
  // The index of the first HDU whose EXTNAME (and EXTVER, when given) match; nullopt if none.
  std::optional<int> find_extname(std::string_view extname, std::optional<int> extver = {});
  // move_to(find_extname(...)), throwing NotFoundError naming the EXTNAME.
  void move_to_extname(std::string_view extname);

  // --- the current HDU -------------------------------------------------------------
  HduType hdu_type();
  // Every card, in order, structural ones included. For a compressed image, the header of
  // the equivalent uncompressed image (ZBITPIX → BITPIX, ...).
  Header read_header();
  // Adds or replaces keywords (as Header::set) of the current HDU; structural keywords in
  // `cards` are ignored.
  void write_keys(const Header& cards);
  // REQUIRES: an image HDU (InvalidArgumentError otherwise).
  ImageHduInfo image_info();

  // Reads the whole image (2-D; a 3-D image with NAXIS3 = 1 is accepted) converting to T
  // with BZERO/BSCALE applied; the result has xy0 = (0, 0). Values that do not fit T
  // (e.g. negative into uint16) → InvalidArgumentError. NAXIS = 0 → InvalidArgumentError.
  template <typename T>
  Image<T> read_image();
  // Reads only the pixels of `region` (0-based, in the HDU's pixel grid; must lie inside
  // it), with cfitsio reading only the rows (or, compressed, the tiles) it needs. The
  // result has xy0 = region.min().
  template <typename T>
  Image<T> read_image(const Box2I& region);

  // Appends an image HDU holding `image` (BITPIX from T: -32, -64, 32, 16 + BZERO 32768,
  // 32 + BZERO 2^31) with the valued cards of `header` (structural keywords skipped)
  // and returns its index. xy0 is not recorded (write LTV/CRVAL1A keywords if you need it).
  template <typename T>
  int write_image(const Image<T>& image, const Header& header = {},
                  const CompressionOptions& compression = {});
  // Appends a header-only HDU (NAXIS = 0): the primary HDU of a multi-extension file.
  int write_empty_image(const Header& header = {});

  // Appends a BINTABLE HDU (see catalog.hpp) and returns its index.
  int write_catalog(const Catalog& catalog, std::string_view extname = {});
  // Reads the current HDU, a binary or ASCII table. Column types map to ColumnType:
  // L→bool, B/I/J (and unsigned 16-bit)→int32, K and unsigned 32-bit→int64, E→float,
  // D→double, A→string, X (bits)→bool array. Variable-length and complex columns →
  // UnsupportedError naming the column. TDOCn (or the astropy description block) gives
  // the docs; TUNIT, TDISP, TDIM are kept; other non-structural cards go to metadata().
  Catalog read_catalog();
  // Reads only the named columns, in that order (NotFoundError listing the table's
  // columns for an unknown name); an empty list reads them all.
  Catalog read_catalog(const std::vector<std::string>& columns);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for keywords that describe the data layout and are produced by the writer itself
// (SIMPLE, BITPIX, NAXISn, EXTEND, XTENSION, PCOUNT, GCOUNT, BZERO, BSCALE, BLANK, TFIELDS,
// T*n column keywords, Z* compression keywords, CHECKSUM, DATASUM, END, LONGSTRN).
bool is_structural_keyword(std::string_view keyword);

}  // namespace majordome::image
