// Writes an Exposure (plain and tile-compressed), a catalog and the values majordome
// computes for them, for tests/python/image/test_image_astropy.py to check with astropy:
//
//   image_writer_fixture OUTDIR
//
// Files: OUTDIR/exposure.fits, exposure_compressed.fits, catalog.fits, expected.json.
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "majordome/image/exposure_fits.hpp"
#include "majordome/image/fits_file.hpp"

namespace mi = majordome::image;

namespace {

mi::Exposure make_exposure() {
  // A sub-image, so that xy0 and the WCS shift are exercised.
  mi::Exposure parent(mi::Box2I({0, 0}, {300, 200}));
  for (int y = 0; y < parent.height(); ++y) {
    auto row = parent.image().row(y);
    for (int x = 0; x < parent.width(); ++x) {
      row[static_cast<std::size_t>(x)] = static_cast<float>(0.5 * x + 1000.0 * std::sin(0.01 * y));
    }
    for (auto& v : parent.variance().row(y)) v = 4.0F;
  }
  parent.mask().planes().add("STREAK");
  parent.mask().set_bits(mi::Box2I({120, 60}, {10, 5}), parent.mask().get_bitmask("SAT"));
  parent.mask().set_bits(mi::Box2I({150, 80}, {3, 3}), parent.mask().get_bitmask("STREAK"));
  mi::SipPolynomial a(2), b(2);
  a(2, 0) = 2.0e-6;
  a(0, 2) = -1.0e-6;
  b(1, 1) = 3.0e-6;
  parent.set_wcs(std::make_shared<const mi::Wcs>(
      mi::make_tan_sip({150.0, 100.0}, {210.5, -12.25}, {-5.0e-5, 1.0e-6, 1.0e-6, 5.0e-5}, a, b)));
  parent.set_psf(std::make_shared<mi::GaussianPsf>(25, 25, 1.8));
  parent.set_photo_calib(mi::PhotoCalib::from_zero_point(27.5));
  parent.set_filter(mi::FilterLabel{"r", "r_03"});
  mi::VisitInfo v;
  v.id = 2025120200439;
  v.exposure_time_s = 30.0;
  v.date = majordome::TaiTime::from_tai_iso("2025-12-02T06:01:02.5");
  v.boresight_ra_deg = 210.5;
  v.boresight_dec_deg = -12.25;
  parent.set_visit_info(v);
  parent.set_detector(mi::DetectorInfo{10, "R02_S01", "ITL-3800C-229", "ITL"});
  parent.metadata().set("OBJECT", "fixture");
  parent.metadata().set("ESO DET OUT1 PRSCX", 50, "a HIERARCH card");
  parent.metadata().set("LONGTEXT", std::string(150, 'z'), "a CONTINUE card");
  return parent.subimage(mi::Box2I({100, 50}, {150, 120}));
}

mi::Catalog make_catalog() {
  mi::Schema s;
  s.add("id", mi::ColumnType::kInt64, "source id");
  s.add("ra", mi::ColumnType::kDouble, "right ascension", "deg");
  s.add("dec", mi::ColumnType::kDouble, "declination", "deg");
  s.add("flux", mi::ColumnType::kFloat, "PSF flux", "nJy");
  s.add("n_pix", mi::ColumnType::kInt32, "footprint area", "pixel");
  s.add("is_star", mi::ColumnType::kBool, "classified as a point source");
  s.add("band", mi::ColumnType::kString, "band, with a 'quoted' word");
  mi::ColumnSpec ap{"ap_flux", mi::ColumnType::kDouble, 3, {}, "count", "aperture fluxes", "F12.3"};
  s.add(ap);
  mi::Catalog cat(s, 5);
  for (std::size_t i = 0; i < 5; ++i) {
    cat.column<std::int64_t>("id")[i] = 1'000'000'000'000 + static_cast<std::int64_t>(i);
    cat.column<double>("ra")[i] = 210.5 + 0.001 * static_cast<double>(i);
    cat.column<double>("dec")[i] = -12.25 - 0.001 * static_cast<double>(i);
    cat.column<float>("flux")[i] = 100.25F * static_cast<float>(i + 1);
    cat.column<std::int32_t>("n_pix")[i] = static_cast<std::int32_t>(7 * i);
    cat.column<bool>("is_star")[i] = i % 2 == 1;
    cat.strings("band")[i].assign(1, i == 4 ? 'i' : 'r');
    for (std::size_t j = 0; j < 3; ++j) cat.column<double>("ap_flux")[3 * i + j] = static_cast<double>(10 * i + j);
  }
  cat.metadata().set("TRACT", 9813, "tract id");
  return cat;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path out = argv[1];
    std::filesystem::create_directories(out);
    const mi::Exposure e = make_exposure();
    mi::write_exposure(out / "exposure.fits", e);
    mi::write_exposure(out / "exposure_compressed.fits", e, mi::ExposureWriteOptions::lossless());
    {
      mi::FitsFile f(out / "catalog.fits", mi::FitsMode::kOverwrite);
      f.write_empty_image();
      f.write_catalog(make_catalog(), "SOURCES");
      f.close();
    }
    nlohmann::json expected;
    expected["xy0"] = {e.bbox().min_x(), e.bbox().min_y()};
    expected["shape"] = {e.height(), e.width()};
    nlohmann::json points = nlohmann::json::array();
    for (int local_y : {0, 37, 119}) {
      for (int local_x : {0, 75, 149}) {
        const int px = e.bbox().min_x() + local_x;
        const int py = e.bbox().min_y() + local_y;
        const mi::SkyCoord s = e.wcs()->pixel_to_sky(px, py);
        points.push_back({{"local", {local_x, local_y}},
                          {"sky", {s.ra_deg, s.dec_deg}},
                          {"image", e.image()(local_x, local_y)},
                          {"mask", e.mask()(local_x, local_y)}});
      }
    }
    expected["points"] = points;
    nlohmann::json planes;
    for (const auto& [bit, name] : e.mask().planes().entries()) planes[name] = bit;
    expected["mask_planes"] = planes;
    expected["photo_calib_mean"] = e.photo_calib()->calibration_mean;
    std::ofstream(out / "expected.json") << expected.dump(1) << "\n";
    return 0;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "image_writer_fixture: %s\n", ex.what());
    return 1;
  }
}
