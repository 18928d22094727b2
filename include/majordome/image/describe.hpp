// File-level helpers for the command line (`majordome image-info`, `pix2sky`, `sky2pix`).
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/wcs.hpp"

namespace majordome::image {

// A human-readable summary of a FITS file: one block per HDU with its type, EXTNAME,
// BITPIX and dimensions (or rows and columns), compression, the key header values
// present (OBJECT, INSTRUME, FILTER, EXPTIME, DATE-OBS, …) and a WCS summary.
// Throws as FitsFile does (NotFoundError, CorruptFileError naming the file).
std::string describe_fits(const std::filesystem::path& path);

// The celestial WCS of HDU `hdu` of a file, or of the first HDU that has one.
// Throws NotFoundError when there is none.
Wcs read_wcs(const std::filesystem::path& path, std::optional<int> hdu = std::nullopt);

// 0-based pixel coordinates ↔ degrees through read_wcs(path, hdu).
std::vector<SkyCoord> pixel_to_sky(const std::filesystem::path& path,
                                   std::span<const Point2D> pixels,
                                   std::optional<int> hdu = std::nullopt);
std::vector<Point2D> sky_to_pixel(const std::filesystem::path& path,
                                  std::span<const SkyCoord> sky,
                                  std::optional<int> hdu = std::nullopt);

}  // namespace majordome::image
