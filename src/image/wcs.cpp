#include "majordome/image/wcs.hpp"

#include <wcslib/wcs.h>
#include <wcslib/wcsfix.h>
#include <wcslib/wcshdr.h>
#include <wcslib/wcsutil.h>
#include <wcslib/dis.h>
#include <wcslib/lin.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <numbers>
#include <string>

#include "fits_cards.hpp"
#include "majordome/core/error.hpp"

namespace majordome::image {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeg = std::numbers::pi / 180.0;
constexpr std::size_t kChunk = 4096;

// The projection (and distortion) part of a CTYPE: "RA---TAN-SIP" → "TAN-SIP".
std::string projection_of(const std::string& ctype) {
  if (ctype.size() <= 5) return {};
  std::string p = ctype.substr(5);
  while (!p.empty() && p.back() == ' ') p.pop_back();
  return p;
}

struct WcsprmDeleter {
  void operator()(wcsprm* w) const {
    if (w != nullptr) {
      wcsfree(w);
      std::free(w);
    }
  }
};
using WcsPtr = std::unique_ptr<wcsprm, WcsprmDeleter>;

WcsPtr copy_wcsprm(const wcsprm& src) {
  WcsPtr dst(static_cast<wcsprm*>(std::calloc(1, sizeof(wcsprm))));
  if (!dst) throw std::bad_alloc();
  dst->flag = -1;
  if (wcssub(1, &src, nullptr, nullptr, dst.get()) != 0) {
    throw InternalError(std::string("wcslib could not copy a WCS: ") +
                        (src.err != nullptr ? src.err->msg : "unknown error"));
  }
  if (wcsset(dst.get()) != 0) {
    throw InternalError(std::string("wcslib could not set up a copied WCS: ") + dst->err->msg);
  }
  return dst;
}

// Gnomonic projection of `p` on the plane tangent at `c`, degrees.
void tangent_plane(const SkyCoord& c, const SkyCoord& p, double& xi, double& eta) {
  const double a0 = c.ra_deg * kDeg, d0 = c.dec_deg * kDeg;
  const double a = p.ra_deg * kDeg, d = p.dec_deg * kDeg;
  const double cosc = std::sin(d0) * std::sin(d) + std::cos(d0) * std::cos(d) * std::cos(a - a0);
  xi = std::cos(d) * std::sin(a - a0) / cosc / kDeg;
  eta = (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(a - a0)) / cosc / kDeg;
}

}  // namespace

SipPolynomial::SipPolynomial(int order) : order_(order) {
  if (order < 0 || order > 9) {
    throw InvalidArgumentError("SIP polynomial order " + std::to_string(order) +
                               " is outside 0..9");
  }
  coeffs_.assign(static_cast<std::size_t>((order + 1) * (order + 1)), 0.0);
}

std::size_t SipPolynomial::index(int p, int q) const {
  if (p < 0 || q < 0 || p + q > order_) {
    throw InvalidArgumentError("SIP coefficient (" + std::to_string(p) + ", " + std::to_string(q) +
                               ") is outside order " + std::to_string(order_));
  }
  return static_cast<std::size_t>(p * (order_ + 1) + q);
}

double LocalLinearWcs::pixel_scale_arcsec() const {
  return std::sqrt(std::fabs(cd[0] * cd[3] - cd[1] * cd[2])) * 3600.0;
}

struct Wcs::Impl {
  WcsPtr wcs;
  std::string projection;
  // This Wcs's pixel (x, y) is wcslib's FITS pixel (x + 1 + offset_x, y + 1 + offset_y).
  double offset_x = 0.0;
  double offset_y = 0.0;
  // wcslib keeps scratch space in its structs, so evaluations are serialized.
  mutable std::mutex mutex;

  int naxis() const { return wcs->naxis; }
};

Wcs::Wcs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Wcs::Wcs(const Wcs& other) : impl_(std::make_unique<Impl>()) {
  std::lock_guard lock(other.impl_->mutex);
  impl_->wcs = copy_wcsprm(*other.impl_->wcs);
  impl_->projection = other.impl_->projection;
  impl_->offset_x = other.impl_->offset_x;
  impl_->offset_y = other.impl_->offset_y;
}

Wcs& Wcs::operator=(const Wcs& other) {
  if (this != &other) *this = Wcs(other);
  return *this;
}

Wcs::Wcs(Wcs&&) noexcept = default;
Wcs& Wcs::operator=(Wcs&&) noexcept = default;
Wcs::~Wcs() = default;

std::optional<Wcs> Wcs::find_in_header(const Header& header) {
  const auto ctype1 = header.find("CTYPE1");
  const auto ctype2 = header.find("CTYPE2");
  if (!ctype1 || !ctype2 || !std::holds_alternative<std::string>(*ctype1) ||
      !std::holds_alternative<std::string>(*ctype2)) {
    return std::nullopt;
  }
  const std::string c1 = std::get<std::string>(*ctype1);
  const std::string c2 = std::get<std::string>(*ctype2);
  // A celestial axis pair has the form XXXX-PPP (RA---TAN, GLON-CAR, …).
  if (c1.size() < 8 || c2.size() < 8 || c1[4] != '-' || c2[4] != '-') return std::nullopt;

  const std::string text = header.to_fits_cards();
  const int nkeyrec = static_cast<int>(text.size() / detail::kCardLength);
  int nreject = 0;
  int nwcs = 0;
  wcsprm* raw = nullptr;
  std::string buffer = text;
  const int parse_status = wcspih(buffer.data(), nkeyrec, WCSHDR_all, 0, &nreject, &nwcs, &raw);
  auto free_all = [&nwcs](wcsprm* p) { wcsvfree(&nwcs, &p); };
  std::unique_ptr<wcsprm, decltype(free_all)> all(raw, free_all);
  if (parse_status != 0) {
    throw InvalidArgumentError("wcslib cannot parse the WCS keywords (wcspih status " +
                               std::to_string(parse_status) + ")");
  }
  wcsprm* primary = nullptr;
  for (int i = 0; i < nwcs; ++i) {
    if (raw[i].alt[0] == ' ' || raw[i].alt[0] == '\0') primary = &raw[i];
  }
  if (primary == nullptr) return std::nullopt;
  auto impl = std::make_unique<Impl>();
  impl->projection = projection_of(c1);
  // The standard fixes of old conventions that astropy applies by default.
  // (Not cylfix: it can crash on a WCS that wcsset rejects.)
  cdfix(primary);
  datfix(primary);
  unitfix(0, primary);
  celfix(primary);
  const int status = wcsset(primary);
  if (status != 0) {
    const std::string msg = primary->err != nullptr ? primary->err->msg : wcs_errmsg[status];
    if (status == WCSERR_BAD_CTYPE || msg.find("nrecognized") != std::string::npos) {
      throw UnsupportedError("WCS with CTYPE1 = '" + c1 + "' is not supported by wcslib: " + msg);
    }
    throw InvalidArgumentError("invalid WCS (CTYPE1 = '" + c1 + "'): " + msg);
  }
  if (primary->lng < 0 || primary->lat < 0) return std::nullopt;
  // No silent fallback to the undistorted projection.
  const std::string& proj = impl->projection;
  const bool wants_prior = proj.size() > 4 && proj.substr(proj.size() - 4) == "-SIP";
  const bool wants_sequent = proj == "TPV" || proj == "TNX" || proj == "ZPX" || proj == "TPD";
  const bool has_prior = primary->lin.dispre != nullptr;
  const bool has_sequent = primary->lin.disseq != nullptr;
  if ((wants_prior && !has_prior) || (wants_sequent && !has_sequent)) {
    throw UnsupportedError("the " + proj + " distortion of CTYPE1 = '" + c1 +
                           "' could not be set up by wcslib (missing or unreadable distortion "
                           "keywords); refusing to fall back to the undistorted projection");
  }
  impl->wcs = copy_wcsprm(*primary);
  return Wcs(std::move(impl));
}

Wcs Wcs::from_header(const Header& header) {
  if (auto w = find_in_header(header)) return std::move(*w);
  throw NotFoundError("the header has no celestial WCS (CTYPE1/CTYPE2 such as 'RA---TAN')");
}

namespace {

// wcslib's work arrays for one chunk of points, sized to the call (single-point calls are
// common: a chunk-sized buffer per call cost more than the transform).
struct Scratch {
  Scratch(std::size_t points, std::size_t stride)
      : pix(points * stride), img(points * stride), world(points * stride), phi(points), theta(points), stat(points) {}
  std::vector<double> pix, img, world, phi, theta;
  std::vector<int> stat;
};

}  // namespace

void Wcs::pixel_to_sky(std::span<const double> x, std::span<const double> y,
                       std::span<double> ra_deg, std::span<double> dec_deg) const {
  const std::size_t n = x.size();
  if (y.size() != n || ra_deg.size() != n || dec_deg.size() != n) {
    throw InvalidArgumentError("Wcs::pixel_to_sky: the four arrays must have the same length");
  }
  const Impl& im = *impl_;
  const int nax = im.naxis();
  const auto stride = static_cast<std::size_t>(nax);
  Scratch scratch(std::min(kChunk, n), stride);
  auto& [pix, img, world, phi, theta, stat] = scratch;
  std::lock_guard lock(im.mutex);
  for (std::size_t start = 0; start < n; start += kChunk) {
    const std::size_t m = std::min(kChunk, n - start);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t k = 0; k < stride; ++k) pix[i * stride + k] = 1.0;
      pix[i * stride + 0] = x[start + i] + 1.0 + im.offset_x;
      pix[i * stride + 1] = y[start + i] + 1.0 + im.offset_y;
    }
    const int status = wcsp2s(im.wcs.get(), static_cast<int>(m), nax, pix.data(), img.data(),
                              phi.data(), theta.data(), world.data(), stat.data());
    if (status != 0 && status != WCSERR_BAD_PIX) {
      throw InternalError(std::string("wcslib pixel-to-sky failed: ") + im.wcs->err->msg);
    }
    for (std::size_t i = 0; i < m; ++i) {
      const bool ok = stat[i] == 0 && std::isfinite(x[start + i]) && std::isfinite(y[start + i]);
      ra_deg[start + i] = ok ? world[i * stride + static_cast<std::size_t>(im.wcs->lng)] : kNaN;
      dec_deg[start + i] = ok ? world[i * stride + static_cast<std::size_t>(im.wcs->lat)] : kNaN;
    }
  }
}

void Wcs::sky_to_pixel(std::span<const double> ra_deg, std::span<const double> dec_deg,
                       std::span<double> x, std::span<double> y) const {
  const std::size_t n = ra_deg.size();
  if (dec_deg.size() != n || x.size() != n || y.size() != n) {
    throw InvalidArgumentError("Wcs::sky_to_pixel: the four arrays must have the same length");
  }
  const Impl& im = *impl_;
  const int nax = im.naxis();
  const auto stride = static_cast<std::size_t>(nax);
  Scratch scratch(std::min(kChunk, n), stride);
  auto& [pix, img, world, phi, theta, stat] = scratch;
  std::lock_guard lock(im.mutex);
  for (std::size_t start = 0; start < n; start += kChunk) {
    const std::size_t m = std::min(kChunk, n - start);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t k = 0; k < stride; ++k) world[i * stride + k] = im.wcs->crval[k];
      world[i * stride + static_cast<std::size_t>(im.wcs->lng)] = ra_deg[start + i];
      world[i * stride + static_cast<std::size_t>(im.wcs->lat)] = dec_deg[start + i];
    }
    const int status = wcss2p(im.wcs.get(), static_cast<int>(m), nax, world.data(), phi.data(),
                              theta.data(), img.data(), pix.data(), stat.data());
    if (status != 0 && status != WCSERR_BAD_WORLD) {
      throw InternalError(std::string("wcslib sky-to-pixel failed: ") + im.wcs->err->msg);
    }
    for (std::size_t i = 0; i < m; ++i) {
      const bool ok =
          stat[i] == 0 && std::isfinite(ra_deg[start + i]) && std::isfinite(dec_deg[start + i]);
      x[start + i] = ok ? pix[i * stride + 0] - 1.0 - im.offset_x : kNaN;
      y[start + i] = ok ? pix[i * stride + 1] - 1.0 - im.offset_y : kNaN;
    }
  }
}

SkyCoord Wcs::pixel_to_sky(double x, double y) const {
  SkyCoord out;
  pixel_to_sky(std::span(&x, 1), std::span(&y, 1), std::span(&out.ra_deg, 1),
               std::span(&out.dec_deg, 1));
  return out;
}

Point2D Wcs::sky_to_pixel(double ra_deg, double dec_deg) const {
  Point2D out;
  sky_to_pixel(std::span(&ra_deg, 1), std::span(&dec_deg, 1), std::span(&out.x, 1),
               std::span(&out.y, 1));
  return out;
}

std::vector<SkyCoord> Wcs::pixel_to_sky(std::span<const Point2D> pixels) const {
  std::vector<double> x, y;
  x.reserve(pixels.size());
  y.reserve(pixels.size());
  for (const auto& p : pixels) {
    x.push_back(p.x);
    y.push_back(p.y);
  }
  std::vector<double> ra(pixels.size()), dec(pixels.size());
  pixel_to_sky(x, y, ra, dec);
  std::vector<SkyCoord> out(pixels.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {ra[i], dec[i]};
  return out;
}

std::vector<Point2D> Wcs::sky_to_pixel(std::span<const SkyCoord> sky) const {
  std::vector<double> ra, dec;
  ra.reserve(sky.size());
  dec.reserve(sky.size());
  for (const auto& s : sky) {
    ra.push_back(s.ra_deg);
    dec.push_back(s.dec_deg);
  }
  std::vector<double> x(sky.size()), y(sky.size());
  sky_to_pixel(ra, dec, x, y);
  std::vector<Point2D> out(sky.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {x[i], y[i]};
  return out;
}

LocalLinearWcs Wcs::linearize(double x, double y) const {
  constexpr double h = 0.5;
  const std::array<double, 5> xs = {x, x + h, x - h, x, x};
  const std::array<double, 5> ys = {y, y, y, y + h, y - h};
  std::array<double, 5> ra{}, dec{};
  pixel_to_sky(xs, ys, ra, dec);
  LocalLinearWcs out;
  out.pixel = {x, y};
  out.sky = {ra[0], dec[0]};
  std::array<double, 5> xi{}, eta{};
  for (std::size_t i = 1; i < 5; ++i) tangent_plane(out.sky, {ra[i], dec[i]}, xi[i], eta[i]);
  out.cd = {(xi[1] - xi[2]) / (2 * h), (xi[3] - xi[4]) / (2 * h), (eta[1] - eta[2]) / (2 * h),
            (eta[3] - eta[4]) / (2 * h)};
  return out;
}

Wcs Wcs::shifted(double dx, double dy) const {
  Wcs copy(*this);
  copy.impl_->offset_x += dx;
  copy.impl_->offset_y += dy;
  return copy;
}

Header Wcs::to_header() const {
  int nkeyrec = 0;
  char* text = nullptr;
  int status = 0;
  {
    std::lock_guard lock(impl_->mutex);
    status = wcshdo(WCSHDO_P17, impl_->wcs.get(), &nkeyrec, &text);
  }
  if (status != 0) {
    if (text != nullptr) wcsdealloc(text);
    throw InternalError(std::string("wcslib cannot write the WCS as FITS keywords: ") +
                        impl_->wcs->err->msg);
  }
  std::string cards(text, static_cast<std::size_t>(nkeyrec) * detail::kCardLength);
  wcsdealloc(text);
  Header header;
  for (auto& card : detail::parse_cards(cards, "WCS")) {
    if (card.keyword.empty()) continue;  // wcshdo's blank separator cards
    header.append(std::move(card));
  }
  // The pixel grid of this Wcs is offset from wcslib's: move CRPIX (SIP, TPV and TPD
  // distortions are all relative to CRPIX or to the intermediate coordinates).
  for (int axis = 0; axis < 2; ++axis) {
    const std::string key = "CRPIX" + std::to_string(axis + 1);
    const double offset = axis == 0 ? impl_->offset_x : impl_->offset_y;
    header.set(key, impl_->wcs->crpix[axis] - offset);
  }
  return header;
}

const std::string& Wcs::projection() const { return impl_->projection; }

Point2D Wcs::reference_pixel() const {
  return {impl_->wcs->crpix[0] - 1.0 - impl_->offset_x, impl_->wcs->crpix[1] - 1.0 - impl_->offset_y};
}

SkyCoord Wcs::reference_sky() const {
  return {impl_->wcs->crval[impl_->wcs->lng], impl_->wcs->crval[impl_->wcs->lat]};
}

Matrix2 Wcs::cd_matrix() const {
  const wcsprm& w = *impl_->wcs;
  const double* m = w.lin.piximg;
  const int n = w.naxis;
  const int l = w.lng, b = w.lat;
  return {m[l * n + 0], m[l * n + 1], m[b * n + 0], m[b * n + 1]};
}

std::string Wcs::summary() const {
  const Point2D crpix = reference_pixel();
  const SkyCoord crval = reference_sky();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s, reference pixel (%.3f, %.3f) -> (%.7f, %.7f) deg, %.4f arcsec/px there",
                impl_->projection.c_str(), crpix.x, crpix.y, crval.ra_deg, crval.dec_deg,
                pixel_scale_arcsec(crpix.x, crpix.y));
  return buf;
}

namespace {

void add_sip(Header& h, const char* name, const SipPolynomial& p) {
  h.set(std::string(name) + "_ORDER", p.order());
  for (int i = 0; i <= p.order(); ++i) {
    for (int j = 0; i + j <= p.order(); ++j) {
      if (p(i, j) != 0.0) h.set(std::string(name) + "_" + std::to_string(i) + "_" + std::to_string(j), p(i, j));
    }
  }
}

Header tan_header(Point2D crpix, SkyCoord crval, const Matrix2& cd, bool sip) {
  Header h;
  h.set("WCSAXES", 2);
  h.set("CTYPE1", sip ? "RA---TAN-SIP" : "RA---TAN");
  h.set("CTYPE2", sip ? "DEC--TAN-SIP" : "DEC--TAN");
  h.set("CRPIX1", crpix.x + 1.0);
  h.set("CRPIX2", crpix.y + 1.0);
  h.set("CRVAL1", crval.ra_deg);
  h.set("CRVAL2", crval.dec_deg);
  h.set("CD1_1", cd[0]);
  h.set("CD1_2", cd[1]);
  h.set("CD2_1", cd[2]);
  h.set("CD2_2", cd[3]);
  h.set("CUNIT1", "deg");
  h.set("CUNIT2", "deg");
  h.set("RADESYS", "ICRS");
  return h;
}

}  // namespace

Wcs make_tan(Point2D crpix, SkyCoord crval, const Matrix2& cd) {
  return Wcs::from_header(tan_header(crpix, crval, cd, false));
}

Wcs make_tan_sip(Point2D crpix, SkyCoord crval, const Matrix2& cd, const SipPolynomial& a,
                 const SipPolynomial& b, const SipPolynomial& ap, const SipPolynomial& bp) {
  if (a.empty() != b.empty() || ap.empty() != bp.empty()) {
    throw InvalidArgumentError("make_tan_sip: A and B (and AP and BP) must be given together");
  }
  if (a.empty()) return make_tan(crpix, crval, cd);
  Header h = tan_header(crpix, crval, cd, true);
  add_sip(h, "A", a);
  add_sip(h, "B", b);
  if (!ap.empty()) {
    add_sip(h, "AP", ap);
    add_sip(h, "BP", bp);
  }
  return Wcs::from_header(h);
}

}  // namespace majordome::image
