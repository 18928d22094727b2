// BackgroundModel evaluation and the Background file (background.hpp).
#include "majordome/image/background.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::image {

namespace {

using Style = BackgroundInterpolation;

constexpr std::array<std::pair<Style, std::string_view>, 4> kStyleNames{{
    {Style::kConstant, "CONSTANT"},
    {Style::kLinear, "LINEAR"},
    {Style::kNaturalSpline, "NATURAL_SPLINE"},
    {Style::kAkimaSpline, "AKIMA_SPLINE"},
}};

// The first pixel of bin i of n over `length` pixels (relative to the box start).
int bin_begin(int i, int n, int length) {
  return static_cast<int>(static_cast<std::int64_t>(i) * length / n);
}

// Derivatives at the knots of the natural cubic spline through (x, y) (n ≥ 3): the second
// derivatives from the tridiagonal system (zero at both ends), then the first derivatives
// that make the cubic Hermite pieces equal to the spline.
std::vector<double> natural_spline_slopes(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  std::vector<double> h(n - 1), m(n, 0.0), c(n, 0.0), d(n, 0.0);
  for (std::size_t i = 0; i + 1 < n; ++i) h[i] = x[i + 1] - x[i];
  // Thomas algorithm on the interior equations:
  // h[i-1] m[i-1] + 2 (h[i-1] + h[i]) m[i] + h[i] m[i+1] = 6 (Δ[i] - Δ[i-1]).
  for (std::size_t i = 1; i + 1 < n; ++i) {
    const double rhs = 6.0 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1]);
    const double diag = 2.0 * (h[i - 1] + h[i]) - h[i - 1] * c[i - 1];
    c[i] = h[i] / diag;
    d[i] = (rhs - h[i - 1] * d[i - 1]) / diag;
  }
  for (std::size_t i = n - 2; i >= 1; --i) m[i] = d[i] - c[i] * m[i + 1];
  std::vector<double> slope(n);
  for (std::size_t i = 0; i + 1 < n; ++i) slope[i] = (y[i + 1] - y[i]) / h[i] - h[i] * (2.0 * m[i] + m[i + 1]) / 6.0;
  slope[n - 1] = (y[n - 1] - y[n - 2]) / h[n - 2] + h[n - 2] * (m[n - 2] + 2.0 * m[n - 1]) / 6.0;
  return slope;
}

// Akima's derivatives (n ≥ 5), with his end conditions: two extra chord slopes extrapolated
// linearly at each end; equal weights take the mean of the neighbouring chords.
std::vector<double> akima_slopes(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  std::vector<double> chord(n + 3);  // chord[k + 2] = slope of segment k, k = -2 .. n
  for (std::size_t k = 0; k + 1 < n; ++k) chord[k + 2] = (y[k + 1] - y[k]) / (x[k + 1] - x[k]);
  chord[1] = 2.0 * chord[2] - chord[3];
  chord[0] = 2.0 * chord[1] - chord[2];
  chord[n + 1] = 2.0 * chord[n] - chord[n - 1];
  chord[n + 2] = 2.0 * chord[n + 1] - chord[n];
  std::vector<double> slope(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double m0 = chord[i], m1 = chord[i + 1], m2 = chord[i + 2], m3 = chord[i + 3];
    const double w1 = std::abs(m3 - m2), w2 = std::abs(m1 - m0);
    slope[i] = (w1 + w2 == 0.0) ? 0.5 * (m1 + m2) : (w1 * m1 + w2 * m2) / (w1 + w2);
  }
  return slope;
}

// Interpolates the curve through (x[k], y[k]) at the points `at` (ascending x required).
class Interpolator {
 public:
  Interpolator(std::vector<double> x, std::vector<double> y, Style style) : x_(std::move(x)), y_(std::move(y)) {
    const std::size_t n = x_.size();
    if (style == Style::kAkimaSpline && n < 5) style = Style::kNaturalSpline;
    if (style == Style::kNaturalSpline && n < 3) style = Style::kLinear;
    if (style == Style::kLinear && n < 2) style = Style::kConstant;
    style_ = style;
    if (style_ == Style::kAkimaSpline) slope_ = akima_slopes(x_, y_);
    if (style_ == Style::kNaturalSpline) slope_ = natural_spline_slopes(x_, y_);
  }

  double operator()(double at) const {
    const std::size_t n = x_.size();
    if (style_ == Style::kConstant) {  // the value of the nearest knot
      std::size_t best = 0;
      for (std::size_t k = 1; k < n; ++k)
        if (std::abs(x_[k] - at) < std::abs(x_[best] - at)) best = k;
      return y_[best];
    }
    // The segment holding `at` (the end segments continue beyond the outermost knots).
    std::size_t k = static_cast<std::size_t>(std::upper_bound(x_.begin(), x_.end(), at) - x_.begin());
    k = std::clamp<std::size_t>(k, 1, n - 1) - 1;
    const double h = x_[k + 1] - x_[k];
    if (style_ == Style::kLinear) return y_[k] + (y_[k + 1] - y_[k]) * (at - x_[k]) / h;
    if (at < x_[0]) return y_[0] + slope_[0] * (at - x_[0]);
    if (at > x_[n - 1]) return y_[n - 1] + slope_[n - 1] * (at - x_[n - 1]);
    // Cubic Hermite piece.
    const double t = (at - x_[k]) / h;
    const double t2 = t * t, t3 = t2 * t;
    return (2 * t3 - 3 * t2 + 1) * y_[k] + (t3 - 2 * t2 + t) * h * slope_[k] + (-2 * t3 + 3 * t2) * y_[k + 1] +
           (t3 - t2) * h * slope_[k + 1];
  }

 private:
  std::vector<double> x_, y_, slope_;
  Style style_ = Style::kConstant;
};

// The centres of n bins over [begin, begin + length), in pixel coordinates.
std::vector<double> bin_centres(int begin, int n, int length) {
  std::vector<double> c(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    c[static_cast<std::size_t>(i)] =
        begin + 0.5 * (bin_begin(i, n, length) + bin_begin(i + 1, n, length) - 1);
  return c;
}

void check_model(const BackgroundModel& m) {
  if (m.values.empty())
    throw InvalidArgumentError(fmt::format("a background model over {} has no bins", m.bbox.str()));
  if (m.values.width() > m.bbox.width() || m.values.height() > m.bbox.height())
    throw InvalidArgumentError(fmt::format("a background model has {}×{} bins, more than the pixels of {}",
                                           m.values.width(), m.values.height(), m.bbox.str()));
  if (!m.variance.empty() && m.variance.dimensions() != m.values.dimensions())
    throw InvalidArgumentError(fmt::format("a background model's variance is {}×{}, its values {}×{}",
                                           m.variance.width(), m.variance.height(), m.values.width(),
                                           m.values.height()));
}

bool same_pixels(const Image<float>& a, const Image<float>& b) {
  if (a.dimensions() != b.dimensions()) return false;
  for (int y = 0; y < a.height(); ++y)
    if (!std::equal(a.row(y).begin(), a.row(y).end(), b.row(y).begin(),
                    [](float p, float q) { return p == q || (std::isnan(p) && std::isnan(q)); }))
      return false;
  return true;
}

}  // namespace

std::string_view background_interpolation_name(BackgroundInterpolation style) {
  for (const auto& [s, name] : kStyleNames)
    if (s == style) return name;
  return "AKIMA_SPLINE";
}

std::optional<BackgroundInterpolation> find_background_interpolation(std::string_view name) {
  for (const auto& [s, n] : kStyleNames)
    if (n == name) return s;
  return std::nullopt;
}

Box2I BackgroundModel::bin_box(int i, int j) const {
  const int nx = values.width(), ny = values.height();
  return Box2I::from_begin_end(bbox.begin_x() + bin_begin(i, nx, bbox.width()),
                               bbox.begin_y() + bin_begin(j, ny, bbox.height()),
                               bbox.begin_x() + bin_begin(i + 1, nx, bbox.width()),
                               bbox.begin_y() + bin_begin(j + 1, ny, bbox.height()));
}

Image<float> BackgroundModel::evaluate() const {
  check_model(*this);
  const int nx = values.width(), ny = values.height();
  const int width = bbox.width(), height = bbox.height();
  const auto xs = bin_centres(bbox.begin_x(), nx, width);
  const auto ys = bin_centres(bbox.begin_y(), ny, height);
  // Along x first: every row of bins at every column.
  std::vector<double> rows(static_cast<std::size_t>(ny) * static_cast<std::size_t>(width));
  for (int j = 0; j < ny; ++j) {
    std::vector<double> v(values.row(j).begin(), values.row(j).end());
    const Interpolator along_x(xs, std::move(v), interpolation);
    for (int x = 0; x < width; ++x)
      rows[static_cast<std::size_t>(j) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] =
          along_x(bbox.begin_x() + x);
  }
  Image<float> out(bbox);
  std::vector<double> column(static_cast<std::size_t>(ny));
  for (int x = 0; x < width; ++x) {
    for (int j = 0; j < ny; ++j)
      column[static_cast<std::size_t>(j)] =
          rows[static_cast<std::size_t>(j) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
    const Interpolator along_y(ys, column, interpolation);
    for (int y = 0; y < height; ++y) out(x, y) = static_cast<float>(along_y(bbox.begin_y() + y));
  }
  return out;
}

bool operator==(const BackgroundModel& a, const BackgroundModel& b) {
  return a.bbox == b.bbox && a.interpolation == b.interpolation && same_pixels(a.values, b.values) &&
         same_pixels(a.variance, b.variance);
}

Image<float> BackgroundList::evaluate() const {
  if (models_.empty()) throw InvalidArgumentError("an empty background list has no value to evaluate");
  Image<float> sum = models_.front().evaluate();
  for (std::size_t k = 1; k < models_.size(); ++k) {
    if (models_[k].bbox != sum.bbox())
      throw InvalidArgumentError(fmt::format("background model {} covers {}, the first one {}", k + 1,
                                             models_[k].bbox.str(), sum.bbox().str()));
    sum += models_[k].evaluate();
  }
  return sum;
}

// ---- the file

namespace {

constexpr const char* kValuesExtname = "BKG_VALUES";
constexpr const char* kVarianceExtname = "BKG_VARIANCE";

}  // namespace

void write_background_file(const std::filesystem::path& path, const BackgroundList& list) {
  for (const auto& m : list.models()) check_model(m);
  FitsFile file(path, FitsMode::kCreate);
  Header primary;
  primary.set("MJDFMTV", kBackgroundFormatVersion, "majordome Background format version");
  primary.set("MJDKIND", "BACKGROUND", "majordome file kind");
  primary.set("NBKG", static_cast<std::int64_t>(list.size()), "number of background models");
  file.write_empty_image(primary);
  int extver = 0;
  for (const auto& m : list.models()) {
    ++extver;
    Header h;
    h.set("EXTNAME", kValuesExtname);
    h.set("EXTVER", extver, "model number");
    h.set("BKGD_X0", m.bbox.begin_x(), "first column of the image modelled");
    h.set("BKGD_Y0", m.bbox.begin_y(), "first row of the image modelled");
    h.set("BKGD_WIDTH", m.bbox.width(), "width of the image modelled");
    h.set("BKGD_HEIGHT", m.bbox.height(), "height of the image modelled");
    h.set("INTERPSTYLE", std::string(background_interpolation_name(m.interpolation)), "interpolation between bins");
    Image<float> values = m.values;
    values.set_xy0({0, 0});
    file.write_image(values, h);
    if (!m.variance.empty()) {
      Header v;
      v.set("EXTNAME", kVarianceExtname);
      v.set("EXTVER", extver, "model number");
      file.write_image(m.variance, v);
    }
  }
  file.close();
}

BackgroundList read_background(const std::filesystem::path& path) {
  FitsFile file(path, FitsMode::kRead);
  const Header primary = file.read_header();
  const std::string name = path.string();
  if (primary.find_string("MJDKIND").value_or("") != "BACKGROUND")
    throw CorruptFileError(fmt::format("{} is not a majordome Background file (no MJDKIND = 'BACKGROUND')", name));
  const auto version = primary.find_int("MJDFMTV").value_or(0);
  if (version > kBackgroundFormatVersion)
    throw CorruptFileError(fmt::format("{}: Background format version {} is newer than this majordome reads ({}); "
                                       "upgrade majordome",
                                       name, version, kBackgroundFormatVersion));
  const auto count = primary.find_int("NBKG");
  if (!count || *count < 0) throw CorruptFileError(fmt::format("{}: no valid NBKG card", name));
  BackgroundList list;
  for (int k = 1; k <= *count; ++k) {
    const auto hdu = file.find_extname(kValuesExtname, k);
    if (!hdu) throw CorruptFileError(fmt::format("{}: no {} HDU for model {}", name, kValuesExtname, k));
    file.move_to(*hdu);
    const Header h = file.read_header();
    auto need = [&](const char* key) {
      const auto v = h.find_int(key);
      if (!v) throw CorruptFileError(fmt::format("{}: model {} has no integer {} card", name, k, key));
      return static_cast<int>(*v);
    };
    BackgroundModel m;
    m.bbox = Box2I({need("BKGD_X0"), need("BKGD_Y0")}, {need("BKGD_WIDTH"), need("BKGD_HEIGHT")});
    const std::string style = h.find_string("INTERPSTYLE").value_or("");
    const auto interpolation = find_background_interpolation(style);
    if (!interpolation)
      throw CorruptFileError(fmt::format("{}: model {} has an unknown INTERPSTYLE '{}'", name, k, printable(style)));
    m.interpolation = *interpolation;
    m.values = file.read_image<float>();
    if (const auto var = file.find_extname(kVarianceExtname, k)) {
      file.move_to(*var);
      m.variance = file.read_image<float>();
    }
    try {
      check_model(m);
    } catch (const InvalidArgumentError& e) {
      throw CorruptFileError(fmt::format("{}: {}", name, e.what()));
    }
    list.append(std::move(m));
  }
  return list;
}

}  // namespace majordome::image
