// The storage classes the image module owns and their formatters (docs/formats/):
//
//   storage class                       C++ type                         file
//   ExposureF, Exposure                 image::Exposure                  Exposure FITS (exposure_fits.hpp)
//   ExposureI                           image::ExposureI                 Exposure FITS, int32 IMAGE HDU
//   Background                          image::BackgroundList            FITS, binned models (background.hpp)
//   ImageF, ImageD, ImageI, ImageU      image::Image<float|double|int32_t|uint16_t>  one-HDU FITS image
//   MaskX                               image::Mask                      one-HDU FITS image, MP_ planes
//   SourceCatalog, SimpleCatalog,       image::Catalog                   FITS BINTABLE (astropy Table.read)
//   ArrowAstropy, DataFrame, ArrowTable,
//   AstropyTable
//   Wcs                                 std::shared_ptr<const image::Wcs>  header-only FITS, WCS keywords
//   Psf                                 std::shared_ptr<const image::Psf>  FITS, PSF table extension
//   PhotoCalib, VisitInfo, FilterLabel, the value types                    header-only FITS, Exposure keywords
//   Detector, Box2I, PropertyList       (DetectorInfo, Box2I, Header)
//
// ExposureF/Exposure/ExposureI components (image is ImageI for ExposureI): image, mask, variance, wcs, psf, photoCalib, visitInfo, filter,
// detector, bbox, metadata — each read without reading the others' pixels. Read parameters:
// "bbox" (image::Box2I, parent pixels) for exposures and images, reading only that part;
// "columns" (std::vector<std::string>) for catalogs, reading only those columns.
#pragma once

#include "majordome/datastore/formatter.hpp"

namespace majordome::image {

// Adds the storage classes and formatters above (and the Rubin formatter names that map to
// them) to `registry`.
void add_formatters(datastore::FormatterRegistry& registry);

}  // namespace majordome::image
