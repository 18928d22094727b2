#include "majordome/sim/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/core/executor.hpp"
#include "majordome/image/fits_file.hpp"
#include "majordome/image/refcat.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::sim {

namespace fs = std::filesystem;
using instrument::Camera;
using instrument::Detector;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegPerRad = 180.0 / kPi;
constexpr double kArcsecPerRad = kDegPerRad * 3600.0;

double binomial(int n, int k) {
  double r = 1.0;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

sphere::UnitVector3d unit_vector(double ra_deg, double dec_deg) {
  return sphere::UnitVector3d(sphere::LonLat::from_degrees(ra_deg, dec_deg));
}

// Writes through a temporary name so that an interrupted run never leaves a partial file
// under a final name.
template <typename Writer>
void write_file(const fs::path& path, Writer&& writer) {
  fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  {
    image::FitsFile f(tmp, image::FitsMode::kOverwrite);
    writer(f);
    f.close();
  }
  fs::rename(tmp, path);
}

}  // namespace

std::string SimSummary::text() const {
  return fmt::format(
      "exposures: {}\ndetectors: {}\nraw files: {}\ncalibration files: {}\ntruth files: {} ({} sources)\n"
      "reference catalog shards: {}\npixels: {:.1f} Mpix in {:.1f} s ({:.1f} Mpix/s)\n",
      exposures, detectors, raw_files, calib_files, truth_files, sources, refcat_shards, pixels / 1e6, seconds,
      mpix_per_second());
}

image::Wcs detector_wcs(const Camera& camera, const Detector& det, const instrument::Pointing& pointing) {
  const auto& c = camera.field_distortion();
  for (std::size_t i = 0; i < c.size(); i += 2)
    if (c[i] != 0.0)
      throw UnsupportedError(fmt::format("camera {}: field_distortion has an even-order term c{} = {}; the simulator's "
                                         "WCS represents odd orders only",
                                         camera.name(), i, c[i]));
  const double s = det.pixel_size_um * 1e-3;                      // mm per pixel
  const double k = camera.plate_scale_arcsec_per_mm() / kArcsecPerRad;  // rad per mm
  const double c1 = c[1];
  // Linear part: pixel offset → focal plane (yaw) → field (parity) → sky tangent plane (rotation).
  const double yaw = det.yaw_deg / kDegPerRad, phi = pointing.rotation_deg / kDegPerRad;
  const double par = camera.focal_plane_parity() ? -1.0 : 1.0;
  const double r[4] = {std::cos(yaw), -std::sin(yaw), std::sin(yaw), std::cos(yaw)};
  const double m[4] = {-std::cos(phi) * par, std::sin(phi), std::sin(phi) * par, std::cos(phi)};
  const double scale = k * c1 * s * kDegPerRad;
  image::Matrix2 cd{scale * (m[0] * r[0] + m[1] * r[2]), scale * (m[0] * r[1] + m[1] * r[3]),
                    scale * (m[2] * r[0] + m[3] * r[2]), scale * (m[2] * r[1] + m[3] * r[3])};
  const auto boresight = camera.focal_plane_to_pixel(det, {0.0, 0.0});
  const image::SkyCoord crval{pointing.ra_deg, pointing.dec_deg};
  int order = 0;
  for (std::size_t i = 3; i < c.size(); i += 2)
    if (c[i] != 0.0) order = static_cast<int>(i);
  if (order == 0) return image::make_tan(boresight, crval, cd);
  // field ∝ d · (1 + Σ_i (c_i / c_1) s^(i−1) |d|^(i−1)) with d the pixel offset from the
  // boresight: a polynomial in d, which SIP's A and B hold term by term.
  image::SipPolynomial a(order), b(order);
  for (int i = 3; i <= order; i += 2) {
    const double t = c[static_cast<std::size_t>(i)] / c1 * std::pow(s, i - 1);
    const int mm = (i - 1) / 2;
    for (int j = 0; j <= mm; ++j) {
      const double w = t * binomial(mm, j);
      a(2 * j + 1, 2 * (mm - j)) += w;
      b(2 * j, 2 * (mm - j) + 1) += w;
    }
  }
  return image::make_tan_sip(boresight, crval, cd, a, b);
}

PsfField psf_field(const Camera& camera, const ExposureSpec& e, std::uint64_t seed) {
  Rng rng(seed, {key(Stream::kExposure), static_cast<std::uint64_t>(e.exposure_id), 1});
  PsfField f;
  f.seeing_arcsec = e.seeing_arcsec > 0.0 ? e.seeing_arcsec : rng.uniform(0.6, 1.1);
  f.e1 = 0.02 * rng.uniform(-1.0, 1.0);
  f.e2 = 0.02 * rng.uniform(-1.0, 1.0);
  f.field_radius_rad = std::max(field_radius(camera), 1e-6);
  return f;
}

image::Schema truth_schema() {
  image::Schema s;
  s.add("id", image::ColumnType::kInt64, "source id (the same in every exposure and in the reference catalog)");
  s.add({"type", image::ColumnType::kString, 6, {}, "", "star or galaxy", ""});
  s.add("ra", image::ColumnType::kDouble, "right ascension at the exposure epoch (ICRS)", "deg");
  s.add("dec", image::ColumnType::kDouble, "declination at the exposure epoch (ICRS)", "deg");
  s.add("x", image::ColumnType::kDouble, "column of the centre on the assembled image (0-based)", "pixel");
  s.add("y", image::ColumnType::kDouble, "row of the centre on the assembled image (0-based)", "pixel");
  s.add("flux", image::ColumnType::kDouble, "total flux in this exposure, before the flat field", "electron");
  s.add("mag", image::ColumnType::kDouble, "AB magnitude in the exposure's band", "mag");
  s.add("snr", image::ColumnType::kDouble, "expected PSF-weighted signal-to-noise ratio", "");
  s.add("psf_fwhm", image::ColumnType::kDouble, "PSF FWHM at the source", "pixel");
  s.add("sersic_n", image::ColumnType::kDouble, "Sersic index (galaxies; 0 for stars)", "");
  s.add("half_light_radius", image::ColumnType::kDouble, "half-light radius (galaxies)", "arcsec");
  s.add("axis_ratio", image::ColumnType::kDouble, "axis ratio b/a (galaxies)", "");
  s.add("position_angle", image::ColumnType::kDouble, "major axis position angle, east of north (galaxies)", "deg");
  s.add("saturated", image::ColumnType::kBool, "the peak exceeds the full well of its amplifier");
  return s;
}

DetectorScene render_scene(const Camera& camera, const Detector& det, const ExposureSpec& e, const SimOptions& o,
                           const std::vector<SkySource>& extra_stars) {
  DetectorScene out;
  render_scene(camera, det, e, o, extra_stars, out);
  return out;
}

void render_scene(const Camera& camera, const Detector& det, const ExposureSpec& e, const SimOptions& o,
                  const std::vector<SkySource>& extra_stars, DetectorScene& out) {
  const int w = det.bbox.width(), h = det.bbox.height();
  // The sky below writes every pixel: an image of the right size is reused as it is.
  if (out.electrons.width() != w || out.electrons.height() != h) out.electrons = image::ImageF(w, h);
  out.htm_pixels.clear();
  out.wcs = detector_wcs(camera, det, e.pointing);
  const auto& wcs = *out.wcs;
  out.psf = psf_field(camera, e, o.seed);
  out.pixel_scale_arcsec = wcs.pixel_scale_arcsec(0.5 * (w - 1), 0.5 * (h - 1));
  const auto& filter = camera.get_filter(e.physical_filter);
  const int band = band_index(filter.band);
  const double zp = filter.zero_point;

  // Sky: dark-sky brightness with a gradient of a few per cent over the field.
  Rng erng(o.seed, {key(Stream::kExposure), static_cast<std::uint64_t>(e.exposure_id), 2});
  const double gx = erng.uniform(-0.03, 0.03), gy = erng.uniform(-0.03, 0.03);
  const double area = out.pixel_scale_arcsec * out.pixel_scale_arcsec;
  const double sky0 = std::pow(10.0, -0.4 * (filter.sky_brightness - zp)) * area * e.exposure_time_s;
  const double radius = out.psf.field_radius_rad;
  for (int y = 0; y < h; ++y) {
    // Linear in x along a row (the field position is interpolated between the row's ends).
    const auto f0 = camera.pixel_to_field(det, {0.0, static_cast<double>(y)});
    const auto f1 = camera.pixel_to_field(det, {static_cast<double>(w - 1), static_cast<double>(y)});
    const double start = sky0 * (1.0 + (gx * f0.x + gy * f0.y) / radius);
    const double slope = w > 1 ? sky0 * (gx * (f1.x - f0.x) + gy * (f1.y - f0.y)) / radius / (w - 1) : 0.0;
    float* row = out.electrons.row(y).data();
    for (int x = 0; x < w; ++x) row[x] = static_cast<float>(start + slope * x);
  }
  {
    const auto fc = camera.pixel_to_field(det, {0.5 * (w - 1), 0.5 * (h - 1)});
    out.sky_electrons = sky0 * (1.0 + (gx * fc.x + gy * fc.y) / radius);
  }

  // Sources of the sky cells around the detector (with a margin for stamps reaching in).
  constexpr double kMargin = 160.0;
  std::vector<sphere::UnitVector3d> corners;
  for (const auto& [px, py] : {std::pair{-kMargin, -kMargin}, std::pair{w + kMargin, -kMargin},
                               std::pair{w + kMargin, h + kMargin}, std::pair{-kMargin, h + kMargin}}) {
    const auto sky = instrument::field_to_sky(camera, e.pointing, camera.pixel_to_field(det, {px, py}));
    corners.push_back(unit_vector(sky[0], sky[1]));
  }
  const auto footprint = sphere::ConvexPolygon::convex_hull(corners);
  const sphere::HtmPixelization htm(kSkyLevel);
  std::vector<SkySource> sources;
  const auto cells = htm.envelope(footprint);
  for (const auto& [begin, end] : cells.ranges())
    for (std::uint64_t id = begin; id < end; ++id) {
      out.htm_pixels.push_back(id);
      auto cell = sources_in_pixel(o.seed, o.sky, id);
      sources.insert(sources.end(), cell.begin(), cell.end());
    }
  for (const auto& s : extra_stars)
    if (footprint.contains(unit_vector(s.ra_deg, s.dec_deg))) sources.push_back(s);

  // Positions at the exposure epoch, then pixels through the true WCS.
  const double years = (e.start.mjd_tai() - kCatalogEpochMjd) / 365.25;
  std::vector<double> ra(sources.size()), dec(sources.size()), xs(sources.size()), ys(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& s = sources[i];
    dec[i] = s.dec_deg + s.pm_dec_mas_per_yr * years / 3.6e6;
    ra[i] = s.ra_deg + s.pm_ra_mas_per_yr * years / 3.6e6 / std::cos(dec[i] / kDegPerRad);
  }
  wcs.sky_to_pixel(ra, dec, xs, ys);

  const auto cd = wcs.cd_matrix();
  const double det_cd = cd[0] * cd[3] - cd[1] * cd[2];
  double read_noise2 = 0.0;
  for (const auto& a : det.amplifiers) read_noise2 += a.read_noise * a.read_noise / det.amplifiers.size();
  double min_full_well = 1e300;
  for (const auto& a : det.amplifiers) min_full_well = std::min(min_full_well, a.saturation * a.gain);

  out.sources = image::Catalog(truth_schema());
  struct Row {
    std::size_t index;
    double flux, snr, fwhm;
    bool saturated;
  };
  std::vector<Row> rows;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& s = sources[i];
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    Placement p;
    p.x = xs[i];
    p.y = ys[i];
    p.flux = std::pow(10.0, -0.4 * (s.mag[static_cast<std::size_t>(band)] - zp)) * e.exposure_time_s;
    const auto f = camera.pixel_to_field(det, {p.x, p.y});
    p.psf = out.psf.at(f.x, f.y, out.pixel_scale_arcsec);
    p.pixel_scale_arcsec = out.pixel_scale_arcsec;
    if (s.type == SourceType::kGalaxy) {
      p.source = &s;
      // Major axis direction on the sky (east of north) → pixel frame through CD⁻¹.
      const double pa = s.position_angle_deg / kDegPerRad;
      const double xi = std::sin(pa), eta = std::cos(pa);
      const double vx = (cd[3] * xi - cd[1] * eta) / det_cd, vy = (-cd[2] * xi + cd[0] * eta) / det_cd;
      p.major_axis_rad = std::atan2(vy, vx);
    }
    const int r = stamp_radius(p);
    if (p.x < -r || p.y < -r || p.x > w + r || p.y > h + r) continue;
    render(out.electrons, p);
    if (p.x < -0.5 || p.y < -0.5 || p.x >= w - 0.5 || p.y >= h - 0.5) continue;
    // Noise-equivalent area of a Moffat: π α² (2β − 1) / (β − 1)²; a galaxy adds its own area.
    const double alpha = p.psf.alpha(), beta = p.psf.beta;
    double n_eff = kPi * alpha * alpha * (2.0 * beta - 1.0) / ((beta - 1.0) * (beta - 1.0));
    if (s.type == SourceType::kGalaxy) {
      const double re = s.half_light_arcsec / out.pixel_scale_arcsec;
      n_eff += 4.0 * kPi * re * re;
    }
    const double snr = p.flux / std::sqrt(p.flux + n_eff * (out.sky_electrons + read_noise2));
    const double peak = p.flux * p.psf.value(0.0, 0.0) + out.sky_electrons;
    rows.push_back({i, p.flux, snr, p.psf.fwhm_px, s.type == SourceType::kStar && peak > min_full_well});
  }
  out.sources.resize(rows.size());
  auto& cat = out.sources;
  auto id = cat.column<std::int64_t>("id");
  auto& type = cat.strings("type");
  auto cra = cat.column<double>("ra"), cdec = cat.column<double>("dec");
  auto cx = cat.column<double>("x"), cy = cat.column<double>("y");
  auto cflux = cat.column<double>("flux"), cmag = cat.column<double>("mag"), csnr = cat.column<double>("snr");
  auto cfwhm = cat.column<double>("psf_fwhm"), cn = cat.column<double>("sersic_n");
  auto cre = cat.column<double>("half_light_radius"), cq = cat.column<double>("axis_ratio");
  auto cpa = cat.column<double>("position_angle");
  auto csat = cat.column<bool>("saturated");
  for (std::size_t j = 0; j < rows.size(); ++j) {
    const auto i = rows[j].index;
    const auto& s = sources[i];
    id[j] = s.id;
    type[j] = std::string(source_type_name(s.type));
    cra[j] = ra[i];
    cdec[j] = dec[i];
    cx[j] = xs[i];
    cy[j] = ys[i];
    cflux[j] = rows[j].flux;
    cmag[j] = s.mag[static_cast<std::size_t>(band)];
    csnr[j] = rows[j].snr;
    cfwhm[j] = rows[j].fwhm;
    cn[j] = s.sersic_n;
    cre[j] = s.half_light_arcsec;
    cq[j] = s.axis_ratio;
    cpa[j] = s.position_angle_deg;
    csat[j] = rows[j].saturated;
  }
}

namespace {

image::Header calib_header(const Camera& camera, const Detector& det, std::string_view type, const std::string& filter,
                           TaiTime date, std::string_view unit) {
  image::Header h;
  h.set("INSTRUME", camera.name(), "Instrument");
  h.set("TELESCOP", camera.telescope(), "Telescope");
  h.set("OBSTYPE", std::string(type), "Calibration type");
  h.set("DETECTOR", det.id, "Detector id");
  h.set("DETNAME", det.name, "Detector name");
  h.set("DET_SER", det.serial, "Detector serial");
  h.set("RAFTNAME", det.raft, "Raft");
  h.set("SLOTNAME", det.ccd, "Slot");
  h.set("FILTER", filter.empty() ? std::string("NONE") : filter, "Physical filter");
  h.set("CALIBDATE", date.tai_iso(0, 'T'), "Start of validity (TAI)");
  h.set("CALIB_ID", fmt::format("instrument={} detector={} calibDate={}", camera.name(), det.id, date.tai_iso(0, 'T')),
        "Calibration id");
  h.set("BUNIT", std::string(unit), "Pixel unit");
  h.set("ORIGIN", "majordome sim", "Simulated data");
  return h;
}

// Combined calibrations: the model plus the noise left by combining n frames.
int write_calibs(const Camera& camera, const DetectorModel& model, const std::vector<std::string>& filters,
                 TaiTime date, const SimOptions& o) {
  const auto& det = model.detector();
  const fs::path root = o.out / "calib";
  Rng rng(o.seed, {key(Stream::kCalib), static_cast<std::uint64_t>(det.id)});
  constexpr double kCombined = 20.0;
  double rn = 0.0;
  for (const auto& a : det.amplifiers) rn = std::max(rn, a.read_noise);
  int files = 0;
  auto noisy = [&](image::ImageF img, double sigma) {
    for (int y = 0; y < img.height(); ++y)
      for (float& v : img.row(y)) v += static_cast<float>(sigma * rng.normal());
    return img;
  };
  const auto bias = noisy(model.bias(), rn / std::sqrt(kCombined));
  write_file(root / "bias" / (det.name + ".fits"), [&](image::FitsFile& f) {
    f.write_image(bias, calib_header(camera, det, "bias", "", date, "electron"));
  });
  const auto dark = noisy(model.dark(), rn / std::sqrt(kCombined) / 30.0);
  write_file(root / "dark" / (det.name + ".fits"), [&](image::FitsFile& f) {
    f.write_image(dark, calib_header(camera, det, "dark", "", date, "electron/s"));
  });
  files += 2;
  for (const auto& pf : filters) {
    const auto flat = model.flat(camera.get_filter(pf).band);
    const double sigma = 1.0 / std::sqrt(kCombined * o.effects.flat_level);
    for (int y = 0; y < flat.height(); ++y)
      for (float& v : flat.row(y)) v *= static_cast<float>(1.0 + sigma * rng.normal());
    write_file(root / "flat" / pf / (det.name + ".fits"), [&](image::FitsFile& f) {
      f.write_image(flat, calib_header(camera, det, "flat", pf, date, ""));
    });
    ++files;
  }
  // Defects as Rubin's "Simple" defects ECSV (x0, y0, width, height).
  const fs::path defects = root / "defects" / (det.name + ".ecsv");
  fs::create_directories(defects.parent_path());
  std::ofstream out(defects);
  out << "# %ECSV 1.0\n# ---\n# datatype:\n"
         "# - {name: x0, unit: pix, datatype: int32, description: X coordinate of bottom left corner of box}\n"
         "# - {name: y0, unit: pix, datatype: int32, description: Y coordinate of bottom left corner of box}\n"
         "# - {name: width, unit: pix, datatype: int32, description: X extent of box}\n"
         "# - {name: height, unit: pix, datatype: int32, description: Y extent of box}\n"
         "# meta:\n"
      << fmt::format("#   OBSTYPE: defects\n#   INSTRUME: {}\n#   DETECTOR: {}\n#   DETECTOR_NAME: {}\n"
                     "#   CALIBDATE: '{}'\n#   DEFECTS_SCHEMA: Simple\n#   DEFECTS_SCHEMA_VERSION: 1\n"
                     "#   ORIGIN: majordome sim\n",
                     camera.name(), det.id, det.name, date.tai_iso(0, 'T'))
      << "# schema: astropy-2.0\nx0 y0 width height\n";
  for (const auto& d : model.defects())
    out << d.box.min_x() << ' ' << d.box.min_y() << ' ' << d.box.width() << ' ' << d.box.height() << '\n';
  if (!out.flush()) throw IoError("cannot write " + defects.string());
  return files + 1;
}

}  // namespace

void write_truth(const Camera& camera, const Detector& det, const ExposureSpec& e, const DetectorScene& scene,
                 const SimOptions& o, const std::string& stem) {
  const fs::path dir = o.out / "truth";
  write_file(dir / (stem + "_sources.fits"), [&](image::FitsFile& f) {
    image::Catalog cat = scene.sources;
    cat.metadata().set("INSTRUME", camera.name());
    cat.metadata().set("DETECTOR", det.id);
    cat.metadata().set("OBSID", e.obs_id);
    cat.metadata().set("FILTER", e.physical_filter);
    f.write_catalog(cat, "SOURCES");
  });
  if (o.truth_images) {
    image::Header h = scene.wcs->to_header();
    h.set("BUNIT", "electron", "Pixel unit");
    h.set("INSTRUME", camera.name());
    h.set("DETECTOR", det.id);
    h.set("DETNAME", det.name);
    h.set("OBSID", e.obs_id);
    h.set("FILTER", e.physical_filter);
    h.set("EXPTIME", e.exposure_time_s);
    h.set("MJD-OBS", e.start.mjd_tai());
    h.set("SKYLEVEL", scene.sky_electrons, "sky at the detector centre, electrons per pixel");
    h.set("SEEING", scene.psf.seeing_arcsec, "PSF FWHM on the optical axis, arcsec");
    h.set("ORIGIN", "majordome sim", "Truth: no noise, no instrument signature");
    // RICE on values quantized to 0.01 e⁻ (far below any photon noise): ~10× faster than
    // lossless GZIP on floats.
    image::CompressionOptions truth_compression{image::Compression::kRice};
    truth_compression.quantize_level = -0.01F;
    // Without dithering (ZQUANTIZ = 'NO_DITHER'): at a 0.01 e⁻ quantum the rounding bias
    // dithering removes is irrelevant, and it saves a random number per pixel.
    truth_compression.dither = image::Dither::kNone;
    write_file(dir / (stem + "_image.fits"), [&](image::FitsFile& f) {
      f.write_image(scene.electrons, h, o.compress ? truth_compression : image::CompressionOptions::none());
    });
  }
  // The PSF: an image at the detector centre and the model parameters over a 5 × 5 grid.
  const int w = det.bbox.width(), hgt = det.bbox.height();
  const auto centre_field = camera.pixel_to_field(det, {0.5 * (w - 1), 0.5 * (hgt - 1)});
  const Psf centre = scene.psf.at(centre_field.x, centre_field.y, scene.pixel_scale_arcsec);
  const int r = static_cast<int>(std::ceil(4.0 * centre.fwhm_px));
  image::ImageF stamp(2 * r + 1, 2 * r + 1);
  for (int y = 0; y < stamp.height(); ++y)
    for (int x = 0; x < stamp.width(); ++x) stamp(x, y) = static_cast<float>(centre.value(x - r, y - r));
  image::Header ph;
  ph.set("PSFMODEL", "MOFFAT", "I ~ (1 + r^2/alpha^2)^-beta, sheared by (e1, e2)");
  ph.set("FWHM", centre.fwhm_px, "pixels, at the detector centre");
  ph.set("BETA", centre.beta);
  ph.set("E1", centre.e1);
  ph.set("E2", centre.e2);
  ph.set("SEEING", scene.psf.seeing_arcsec, "FWHM on the optical axis, arcsec");
  ph.set("CRPIX1", r + 1.0, "the PSF centre (1-based)");
  ph.set("CRPIX2", r + 1.0);
  ph.add_comment("FWHM = SEEING * (1 + 0.15 rho^2), e = e0 + 0.04 rho^2 (cos 2theta, sin 2theta),");
  ph.add_comment("rho = field angle / field radius; table PSF_GRID samples it over the detector.");
  image::Schema gs;
  gs.add("x", image::ColumnType::kDouble, "column", "pixel");
  gs.add("y", image::ColumnType::kDouble, "row", "pixel");
  gs.add("fwhm", image::ColumnType::kDouble, "Moffat FWHM", "pixel");
  gs.add("beta", image::ColumnType::kDouble, "Moffat beta");
  gs.add("e1", image::ColumnType::kDouble, "ellipticity component 1 (reduced shear)");
  gs.add("e2", image::ColumnType::kDouble, "ellipticity component 2 (reduced shear)");
  image::Catalog grid(gs, 25);
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 5; ++i) {
      const std::size_t row = static_cast<std::size_t>(j * 5 + i);
      const double x = (w - 1) * i / 4.0, y = (hgt - 1) * j / 4.0;
      const auto fa = camera.pixel_to_field(det, {x, y});
      const auto p = scene.psf.at(fa.x, fa.y, scene.pixel_scale_arcsec);
      grid.column<double>("x")[row] = x;
      grid.column<double>("y")[row] = y;
      grid.column<double>("fwhm")[row] = p.fwhm_px;
      grid.column<double>("beta")[row] = p.beta;
      grid.column<double>("e1")[row] = p.e1;
      grid.column<double>("e2")[row] = p.e2;
    }
  write_file(dir / (stem + "_psf.fits"), [&](image::FitsFile& f) {
    f.write_image(stamp, ph);
    f.write_catalog(grid, "PSF_GRID");
  });
}

namespace {

image::Catalog build_refcat(const Camera& camera, const std::set<std::uint64_t>& cells,
                            const std::vector<SkySource>& extra, const SimOptions& o) {
  std::vector<std::string> bands;
  for (const auto* b : kBands)
    for (const auto& f : camera.filters())
      if (f.band == b && std::find(bands.begin(), bands.end(), b) == bands.end()) bands.emplace_back(b);
  std::vector<SkySource> stars;
  for (const auto id : cells)
    for (const auto& s : sources_in_pixel(o.seed, o.sky, id))
      if (s.type == SourceType::kStar && s.mag[2] < o.refcat_mag_limit) stars.push_back(s);
  const sphere::HtmPixelization htm(kSkyLevel);
  for (const auto& s : extra)
    if (cells.count(htm.index(unit_vector(s.ra_deg, s.dec_deg)))) stars.push_back(s);
  image::Catalog cat(image::refcat_schema(bands), stars.size());
  constexpr double kMasToRad = 1.0 / 3.6e6 / kDegPerRad;
  auto id = cat.column<std::int64_t>("id");
  auto ra = cat.column<double>("coord_ra"), dec = cat.column<double>("coord_dec");
  auto ra_err = cat.column<float>("coord_raErr"), dec_err = cat.column<float>("coord_decErr");
  auto epoch = cat.column<double>("epoch");
  auto pm_ra = cat.column<float>("pm_ra"), pm_dec = cat.column<float>("pm_dec");
  auto pm_ra_err = cat.column<float>("pm_raErr"), pm_dec_err = cat.column<float>("pm_decErr");
  auto plx_err = cat.column<float>("parallaxErr");
  for (std::size_t i = 0; i < stars.size(); ++i) {
    const auto& s = stars[i];
    id[i] = s.id;
    ra[i] = s.ra_deg / kDegPerRad;
    dec[i] = s.dec_deg / kDegPerRad;
    // Gaia-like errors growing with magnitude.
    const double sigma_mas = 0.02 * std::pow(10.0, 0.2 * std::max(0.0, s.mag[2] - 15.0));
    ra_err[i] = static_cast<float>(sigma_mas * kMasToRad);
    dec_err[i] = static_cast<float>(sigma_mas * kMasToRad);
    epoch[i] = kCatalogEpochMjd;
    pm_ra[i] = static_cast<float>(s.pm_ra_mas_per_yr * kMasToRad);
    pm_dec[i] = static_cast<float>(s.pm_dec_mas_per_yr * kMasToRad);
    pm_ra_err[i] = static_cast<float>(sigma_mas * kMasToRad);
    pm_dec_err[i] = static_cast<float>(sigma_mas * kMasToRad);
    plx_err[i] = static_cast<float>(sigma_mas * kMasToRad);
    for (const auto& b : bands) {
      const double m = s.mag[static_cast<std::size_t>(band_index(b))];
      const double flux = std::pow(10.0, -0.4 * (m - 31.4));  // nJy
      cat.column<double>(b + "_flux")[i] = flux;
      cat.column<double>(b + "_fluxErr")[i] = flux * (0.002 + 0.01 * std::pow(10.0, 0.4 * (m - o.refcat_mag_limit)));
    }
  }
  cat.metadata().set("REFCAT", "majordome sim");
  return cat;
}

bool selected(const Detector& d, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  for (const auto& w : wanted)
    if (w == d.name || w == std::to_string(d.id)) return true;
  return false;
}

}  // namespace

SimSummary simulate(const Camera& camera, std::vector<ExposureSpec> exposures, const SimOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.out.empty()) throw InvalidArgumentError("simulate: an output directory is required (--out DIR)");
  if (o.threads < 0) throw InvalidArgumentError("simulate: the number of threads must be >= 0 (0: one per core)");
  std::vector<const Detector*> detectors;
  for (const auto& d : camera.detectors())
    if (selected(d, o.detectors)) detectors.push_back(&d);
  for (const auto& w : o.detectors) {
    bool found = false;
    for (const auto* d : detectors) found = found || w == d->name || w == std::to_string(d->id);
    if (!found) (void)camera.get_detector(w);  // throws NotFoundError listing the detectors
  }
  std::vector<std::string> filters;
  for (const auto& e : exposures)
    if (!e.physical_filter.empty() && std::find(filters.begin(), filters.end(), e.physical_filter) == filters.end())
      filters.push_back(e.physical_filter);
  TaiTime first = exposures.empty() ? TaiTime::from_tai_iso("2024-11-26T01:00:00") : exposures.front().start;
  for (const auto& e : exposures) first = std::min(first, e.start);
  if (o.calibs) {
    std::vector<std::string> bands;
    for (const auto& f : filters) bands.push_back(camera.get_filter(f).band);
    auto cal = calibration_exposures(camera, bands, first, o.calib_exposures);
    exposures.insert(exposures.begin(), cal.begin(), cal.end());
  }
  assign_ids(camera, exposures, o.first_seq);

  std::vector<SkySource> extra;
  for (const auto& path : o.star_tables) {
    auto stars = read_star_table(path, (std::int64_t{1} << 62) + static_cast<std::int64_t>(extra.size()));
    extra.insert(extra.end(), stars.begin(), stars.end());
  }

  fs::create_directories(o.out);
  SimSummary summary;
  summary.exposures = static_cast<int>(exposures.size());
  summary.detectors = static_cast<int>(detectors.size());

  // Work items: exposure-major so that early files appear early; the detector model (flat
  // pattern, defects) is built once per detector and shared.
  std::vector<std::pair<std::size_t, std::size_t>> items;
  for (std::size_t e = 0; e < exposures.size(); ++e)
    for (std::size_t d = 0; d < detectors.size(); ++d) items.emplace_back(e, d);
  std::vector<std::unique_ptr<DetectorModel>> models(detectors.size());
  std::vector<std::once_flag> model_once(detectors.size());
  auto model_of = [&](std::size_t d) -> const DetectorModel& {
    std::call_once(model_once[d], [&] { models[d] = std::make_unique<DetectorModel>(camera, *detectors[d], o.seed, o.effects); });
    return *models[d];
  };

  std::mutex mutex;
  std::set<std::uint64_t> cells;
  std::vector<fs::path> raws(items.size());
  std::atomic<std::int64_t> pixels{0}, sources{0};
  std::atomic<int> truth_files{0};
  Executor executor(o.threads);
  // Pixel buffers reused from one exposure × detector to the next on the same thread (no page
  // faults, no zero fills): every pixel is rewritten.
  struct Scratch {
    DetectorScene scene;
    std::vector<image::ImageI> amps;
  };
  std::vector<Scratch> scratch(static_cast<std::size_t>(executor.jobs()));
  if (o.progress) o.progress->start("simulating raws", items.size());
  executor.for_each(items.size(), [&](std::size_t i) {
    auto& scene = scratch[static_cast<std::size_t>(Executor::worker_index())].scene;
    auto& amps = scratch[static_cast<std::size_t>(Executor::worker_index())].amps;
    const auto& e = exposures[items[i].first];
    const auto& det = *detectors[items[i].second];
    const std::string stem = raw_file_stem(e, det);
    const fs::path path = o.out / "raw" / std::to_string(e.day_obs) / e.obs_id / (stem + ".fits");
    if (o.tiny) {
      amps.clear();
      for (const auto& a : det.amplifiers) amps.emplace_back(1, 1, static_cast<std::int32_t>(a.bias_level));
    } else {
      if (e.kind == ExposureKind::kScience) {
        render_scene(camera, det, e, o, extra, scene);
        write_truth(camera, det, e, scene, o, stem);
        truth_files += o.truth_images ? 3 : 2;
        sources += static_cast<std::int64_t>(scene.sources.size());
        std::lock_guard lock(mutex);
        cells.insert(scene.htm_pixels.begin(), scene.htm_pixels.end());
      }
      Rng rng(o.seed, {key(Stream::kPixels), static_cast<std::uint64_t>(e.exposure_id),
                       static_cast<std::uint64_t>(det.id)});
      make_raw(camera, model_of(items[i].second), e, scene.electrons, rng, o.effects, amps);
    }
    write_file(path, [&](image::FitsFile& f) {
      f.write_empty_image(raw_primary_header(camera, det, e));
      for (std::size_t a = 0; a < amps.size(); ++a)
        f.write_image(amps[a], raw_amplifier_header(det, det.amplifiers[a]),
                      o.compress ? image::CompressionOptions::lossless_integer() : image::CompressionOptions::none());
    });
    std::int64_t n = 0;
    for (const auto& a : amps) n += static_cast<std::int64_t>(a.width()) * a.height();
    pixels += n;
    raws[i] = path;
  }, o.progress);
  if (o.progress) o.progress->finish();

  if (o.calibs && !o.tiny) {
    for (std::size_t d = 0; d < detectors.size(); ++d)
      summary.calib_files += write_calibs(camera, model_of(d), filters, exposures.front().start, o);
  }
  if (o.refcat && !o.tiny && !cells.empty()) {
    const auto cat = build_refcat(camera, cells, extra, o);
    image::RefcatWriteOptions ro;
    ro.overwrite = true;
    summary.refcat_shards = static_cast<int>(image::write_refcat_shards(cat, o.out / "refcat", ro).size());
  }
  summary.raws = std::move(raws);
  summary.raw_files = static_cast<int>(summary.raws.size());
  summary.pixels = pixels;
  summary.sources = sources;
  summary.truth_files = truth_files;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::ofstream yaml(o.out / "summary.yaml");
  yaml << "# majordome sim summary\n"
       << fmt::format("camera: {}\nseed: {}\nexposures: {}\ndetectors: {}\nraw_files: {}\ncalib_files: {}\n"
                      "truth_files: {}\ntruth_sources: {}\nrefcat_shards: {}\nmegapixels: {:.3f}\nseconds: {:.3f}\n"
                      "megapixels_per_second: {:.3f}\n",
                      camera.name(), o.seed, summary.exposures, summary.detectors, summary.raw_files,
                      summary.calib_files, summary.truth_files, summary.sources, summary.refcat_shards,
                      summary.pixels / 1e6, summary.seconds, summary.mpix_per_second());
  yaml << "exposures_list:\n";
  for (const auto& e : exposures)
    yaml << fmt::format("  - {{obs_id: {}, exposure_id: {}, type: {}, physical_filter: '{}', ra: {:.6f}, dec: {:.6f}, "
                        "rotation: {:.4f}, exptime: {}}}\n",
                        e.obs_id, e.exposure_id, image_type(e.kind), e.physical_filter, e.pointing.ra_deg,
                        e.pointing.dec_deg, e.pointing.rotation_deg, e.exposure_time_s);
  return summary;
}

}  // namespace majordome::sim
