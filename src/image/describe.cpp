#include "majordome/image/describe.hpp"

#include <cstdio>
#include <sstream>

#include "majordome/core/error.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::image {

namespace {

std::string bitpix_name(int bitpix, int equivalent) {
  std::string s = std::to_string(bitpix);
  const char* type = nullptr;
  switch (equivalent) {
    case 8: type = "uint8"; break;
    case 10: type = "int8"; break;
    case 16: type = "int16"; break;
    case 20: type = "uint16"; break;
    case 32: type = "int32"; break;
    case 40: type = "uint32"; break;
    case 64: type = "int64"; break;
    case -32: type = "float32"; break;
    case -64: type = "float64"; break;
    default: type = "?"; break;
  }
  s += " (";
  s += type;
  if (equivalent != bitpix) s += " via BZERO";
  s += ")";
  return s;
}

constexpr std::array<const char*, 22> kKeyCards = {
    "OBJECT",  "TELESCOP", "INSTRUME", "DETECTOR", "FILTER",  "BAND",    "EXPTIME", "DATE-OBS",
    "MJD-OBS", "RA",       "DEC",      "AIRMASS",  "BUNIT",   "GAIN",    "RDNOISE", "OBSTYPE",
    "MJDFMTV", "MJDKIND",  "FLT_BAND", "FLT_PHYS", "PC_MEAN", "VI_EXPT"};

}  // namespace

std::string describe_fits(const std::filesystem::path& path) {
  FitsFile f(path, FitsMode::kRead);
  std::ostringstream out;
  const int n = f.hdu_count();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  out << path.string() << ": " << (ec ? 0 : size) << " bytes, " << n << (n == 1 ? " HDU" : " HDUs")
      << "\n";
  for (int i = 0; i < n; ++i) {
    f.move_to(i);
    const Header h = f.read_header();
    const std::string extname = h.find_string("EXTNAME").value_or(i == 0 ? "PRIMARY" : "");
    out << "HDU " << i << "  " << (extname.empty() ? "(no EXTNAME)" : extname) << "  ";
    const HduType type = f.hdu_type();
    bool has_pixels = false;
    Extent2I dims;
    if (type == HduType::kImage) {
      const ImageHduInfo info = f.image_info();
      out << "image  BITPIX " << bitpix_name(info.bitpix, info.equivalent_bitpix);
      if (info.shape.empty()) {
        out << "  no data";
      } else {
        out << "  ";
        for (std::size_t k = 0; k < info.shape.size(); ++k) out << (k ? " x " : "") << info.shape[k];
        has_pixels = info.shape.size() >= 2;
        if (has_pixels) dims = {static_cast<int>(info.shape[0]), static_cast<int>(info.shape[1])};
      }
      if (info.compression != Compression::kNone) {
        out << "  tile-compressed " << compression_name(info.compression);
        if (auto q = h.find_string("ZQUANTIZ")) out << " (" << *q << ")";
      }
      out << "\n";
    } else {
      const auto rows = h.find_int("NAXIS2").value_or(0);
      const auto cols = h.find_int("TFIELDS").value_or(0);
      out << (type == HduType::kBinaryTable ? "binary table" : "ASCII table") << "  " << rows
          << " rows x " << cols << " columns:";
      for (std::int64_t c = 1; c <= cols; ++c) {
        const std::string k = std::to_string(c);
        out << (c > 1 ? ", " : " ") << h.find_string("TTYPE" + k).value_or("?") << " ("
            << h.find_string("TFORM" + k).value_or("?");
        if (auto u = h.find_string("TUNIT" + k); u && !u->empty()) out << ", " << *u;
        out << ")";
        if (c == 40 && cols > 40) {
          out << ", ... (" << cols - 40 << " more)";
          break;
        }
      }
      out << "\n";
    }
    for (const char* key : kKeyCards) {
      if (const Card* c = h.find_card(key); c != nullptr) {
        out << "    " << key << " = " << format_header_value(c->value) << "\n";
      }
    }
    try {
      if (auto wcs = Wcs::find_in_header(h)) {
        out << "    WCS: " << wcs->summary() << "\n";
        if (has_pixels) {
          const double cx = (dims.width - 1) / 2.0;
          const double cy = (dims.height - 1) / 2.0;
          const SkyCoord c = wcs->pixel_to_sky(cx, cy);
          char buf[160];
          std::snprintf(buf, sizeof buf, "    centre pixel (%.1f, %.1f) -> (%.7f, %.7f) deg\n", cx,
                        cy, c.ra_deg, c.dec_deg);
          out << buf;
        }
      }
    } catch (const Error& e) {
      out << "    WCS: not usable: " << e.what() << "\n";
    }
  }
  return out.str();
}

Wcs read_wcs(const std::filesystem::path& path, std::optional<int> hdu) {
  FitsFile f(path, FitsMode::kRead);
  if (hdu) {
    f.move_to(*hdu);
    try {
      return Wcs::from_header(f.read_header());
    } catch (const NotFoundError&) {
      throw NotFoundError(path.string() + ": HDU " + std::to_string(*hdu) +
                          " has no celestial WCS");
    }
  }
  const int n = f.hdu_count();
  for (int i = 0; i < n; ++i) {
    f.move_to(i);
    if (auto w = Wcs::find_in_header(f.read_header())) return std::move(*w);
  }
  throw NotFoundError(path.string() + ": no HDU has a celestial WCS");
}

std::vector<SkyCoord> pixel_to_sky(const std::filesystem::path& path,
                                   std::span<const Point2D> pixels, std::optional<int> hdu) {
  return read_wcs(path, hdu).pixel_to_sky(pixels);
}

std::vector<Point2D> sky_to_pixel(const std::filesystem::path& path, std::span<const SkyCoord> sky,
                                  std::optional<int> hdu) {
  return read_wcs(path, hdu).sky_to_pixel(sky);
}

}  // namespace majordome::image
