// The Exposure file format: multi-extension FITS readable without majordome.
//
// Layout (format version kExposureFormatVersion; docs/formats/exposure.md is the spec):
//   HDU 0  primary, no data: MJDFMTV (format version), MJDKIND = 'EXPOSURE', the
//          component keywords (FLT_*, PC_*, VI_*, DET_*) and the metadata cards;
//   HDU 1  EXTNAME 'IMAGE'    float32 (int32 for an ExposureI), WCS keywords, xy0 (LTV1/2
//          and CRVAL1A/2A);
//   HDU 2  EXTNAME 'MASK'     uint32, mask planes as MP_<NAME> = bit, WCS, xy0;
//   HDU 3  EXTNAME 'VARIANCE' float32, WCS, xy0;
//   HDU 4  EXTNAME 'PSF'      optional BINTABLE from Psf::to_catalog().
// Each image HDU may be tile-compressed. Readers find HDUs by EXTNAME and ignore unknown
// extensions and keywords, so later minor versions stay readable.
//
// read_exposure also reads files in Rubin afw's Exposure layout (image, mask, variance
// in HDUs 1-3 with MP_ keywords and a FITS WCS approximation; afw's binary archive of
// components is ignored).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "majordome/image/box.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/exposure_i.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/image/header.hpp"
#include "majordome/image/psf.hpp"

namespace majordome::image {

inline constexpr int kExposureFormatVersion = 1;

struct ExposureWriteOptions {
  CompressionOptions image;
  CompressionOptions mask;
  CompressionOptions variance;

  // Lossless everywhere: GZIP_2 for image and variance, RICE_1 for the mask.
  static ExposureWriteOptions lossless();
};

// Makes a Psf from the PSF extension's table and header.
using PsfReader = std::function<std::shared_ptr<const Psf>(const Catalog&)>;

struct ExposureReadOptions {
  // Read only these parent pixels (must lie inside the stored bbox); whole image if unset.
  std::optional<Box2I> bbox;
  // PSF readers by persistence name, in addition to the built-in GaussianPsf. A PSF
  // extension whose name has no reader is skipped (the exposure has no PSF).
  std::map<std::string, PsfReader> psf_readers;
};

// Writes atomically (datastore::AtomicFile: a temporary file in the same directory, synced,
// then renamed). Throws IoError when the file cannot be written, ConflictError when it
// exists, UnsupportedError when the PSF cannot be persisted (no to_catalog()).
void write_exposure(const std::filesystem::path& path, const Exposure& exposure,
                    const ExposureWriteOptions& options = {});
// Writes a new file at `path` in place, for callers that make it durable themselves (a
// formatter writing to the datastore's temporary name). Throws as write_exposure.
void write_exposure_file(const std::filesystem::path& path, const Exposure& exposure,
                         const ExposureWriteOptions& options = {});
// The same for an ExposureI (the IMAGE HDU holds 32-bit integers, BITPIX = 32).
void write_exposure_file(const std::filesystem::path& path, const ExposureI& exposure,
                         const ExposureWriteOptions& options = {});

// Reads an Exposure file part by part. Each accessor reads only what it needs: the
// components from the primary header, the bbox and WCS from the IMAGE header, the PSF
// from its table, the pixels of one plane (or of `bbox` within it, through cfitsio's
// subset reads, tile-compressed too). Not thread-safe; one reader per thread.
class ExposureReader {
 public:
  // Opens the file and checks its format version. Throws as read_exposure.
  explicit ExposureReader(const std::filesystem::path& path);

  Box2I bbox();
  std::shared_ptr<const Wcs> wcs();  // nullptr when the file has none
  // nullptr when the file has none or no reader knows its model.
  std::shared_ptr<const Psf> psf(const std::map<std::string, PsfReader>& readers = {});
  std::optional<PhotoCalib> photo_calib() const { return components_.photo_calib(); }
  std::optional<VisitInfo> visit_info() const { return components_.visit_info(); }
  std::optional<FilterLabel> filter() const { return components_.filter(); }
  std::optional<DetectorInfo> detector() const { return components_.detector(); }
  const Header& metadata() const { return components_.metadata(); }
  // `bbox` in parent pixels, inside bbox() (InvalidArgumentError otherwise).
  Image<float> image(const std::optional<Box2I>& bbox = {});
  // The IMAGE HDU as 32-bit integers (an ExposureI's pixels; other types converted by cfitsio).
  Image<std::int32_t> image_i(const std::optional<Box2I>& bbox = {});
  Mask mask(const std::optional<Box2I>& bbox = {});
  Image<VariancePixel> variance(const std::optional<Box2I>& bbox = {});
  Exposure read(const ExposureReadOptions& options = {});
  // The file as an ExposureI.
  ExposureI read_i(const ExposureReadOptions& options = {});

 private:
  const Header& image_header();
  template <typename T>
  Image<T> read_plane(int hdu, const std::optional<Box2I>& bbox);

  FitsFile file_;
  std::string name_;
  Exposure components_;  // no pixels: the primary header's components and metadata
  int image_hdu_ = -1, mask_hdu_ = -1, variance_hdu_ = -1;
  std::optional<Header> image_header_;
  Point2I xy0_{0, 0};
};
// Throws NotFoundError (no file), CorruptFileError (not an Exposure file, a newer major
// format version, inconsistent HDUs), each naming the file.
Exposure read_exposure(const std::filesystem::path& path, const ExposureReadOptions& options = {});

}  // namespace majordome::image
