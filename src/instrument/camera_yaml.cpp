// Reading camera descriptions (data/instruments/<name>.yaml, docs/formats/camera.md).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "majordome/core/error.hpp"
#include "majordome/instrument/camera.hpp"

#ifndef MAJORDOME_DATA_DIR
#error "MAJORDOME_DATA_DIR must be defined by the build (src/instrument/CMakeLists.txt)"
#endif

namespace majordome::instrument {

namespace fs = std::filesystem;

namespace {

// Reads typed values out of a YAML tree, naming the file and the key path on any error.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw InvalidConfigError(fmt::format("camera description {}: key '{}': {}", file_, key, why));
  }

  YAML::Node child(const YAML::Node& node, const std::string& key, const std::string& path) const {
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) fail(join(path, key), "is required");
    return value;
  }

  template <typename T>
  T get(const YAML::Node& node, const std::string& key, const std::string& path) const {
    return as<T>(child(node, key, path), join(path, key));
  }

  template <typename T>
  T get_or(const YAML::Node& node, const std::string& key, const std::string& path, T fallback) const {
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) return fallback;
    return as<T>(value, join(path, key));
  }

  template <typename T>
  T as(const YAML::Node& value, const std::string& key) const {
    if (!value.IsScalar()) fail(key, "expected a single value");
    try {
      return value.as<T>();
    } catch (const YAML::Exception&) {
      fail(key, fmt::format("'{}' is not a valid {}", value.Scalar(), type_name<T>()));
    }
  }

  std::vector<double> numbers(const YAML::Node& value, const std::string& key) const {
    if (!value.IsSequence()) fail(key, "expected a list of numbers");
    std::vector<double> out;
    for (std::size_t i = 0; i < value.size(); ++i) out.push_back(as<double>(value[i], fmt::format("{}[{}]", key, i)));
    return out;
  }

  // [x0, y0, width, height]
  image::Box2I box(const YAML::Node& node, const std::string& key, const std::string& path) const {
    const std::string full = join(path, key);
    const auto v = numbers(child(node, key, path), full);
    if (v.size() != 4 || v[2] < 0 || v[3] < 0) fail(full, "expected [x0, y0, width, height] with width, height >= 0");
    return image::Box2I({static_cast<int>(v[0]), static_cast<int>(v[1])},
                        {static_cast<int>(v[2]), static_cast<int>(v[3])});
  }

  std::map<std::string, std::string> strings(const YAML::Node& node, const std::string& key,
                                             const std::string& path) const {
    std::map<std::string, std::string> out;
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) return out;
    if (!value.IsMap()) fail(join(path, key), "expected a mapping of header keywords to values");
    for (const auto& item : value) out[item.first.as<std::string>()] = item.second.as<std::string>();
    return out;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  template <typename T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, double>) return "number";
    if constexpr (std::is_same_v<T, int>) return "integer";
    if constexpr (std::is_same_v<T, bool>) return "boolean (true/false)";
    return "string";
  }

  std::string file_;
};

DetectorPurpose parse_purpose(const Reader& r, const std::string& text, const std::string& key) {
  if (text == "SCIENCE") return DetectorPurpose::kScience;
  if (text == "FOCUS") return DetectorPurpose::kFocus;
  if (text == "GUIDER") return DetectorPurpose::kGuider;
  if (text == "WAVEFRONT") return DetectorPurpose::kWavefront;
  r.fail(key, fmt::format("'{}' is not one of SCIENCE, FOCUS, GUIDER, WAVEFRONT", text));
}

Amplifier parse_amplifier(const Reader& r, const YAML::Node& n, const std::string& path) {
  Amplifier a;
  a.name = r.get<std::string>(n, "name", path);
  a.hdu = r.get<int>(n, "hdu", path);
  a.bbox = r.box(n, "bbox", path);
  a.raw_bbox = r.box(n, "raw_bbox", path);
  a.raw_data_bbox = r.box(n, "raw_data", path);
  a.raw_serial_prescan_bbox = r.box(n, "raw_serial_prescan", path);
  a.raw_serial_overscan_bbox = r.box(n, "raw_serial_overscan", path);
  a.raw_parallel_overscan_bbox = r.box(n, "raw_parallel_overscan", path);
  a.raw_flip_x = r.get<bool>(n, "flip_x", path);
  a.raw_flip_y = r.get<bool>(n, "flip_y", path);
  a.gain = r.get<double>(n, "gain", path);
  a.read_noise = r.get<double>(n, "read_noise", path);
  a.saturation = r.get<double>(n, "saturation", path);
  a.bias_level = r.get_or<double>(n, "bias_level", path, 0.0);
  a.dark_current = r.get_or<double>(n, "dark_current", path, 0.0);
  if (const auto lin = n["linearity_coeffs"]; lin && !lin.IsNull())
    a.linearity_coeffs = r.numbers(lin, Reader::join(path, "linearity_coeffs"));
  return a;
}

Detector parse_detector(const Reader& r, const YAML::Node& n, const std::string& path) {
  Detector d;
  d.id = r.get<int>(n, "id", path);
  d.name = r.get<std::string>(n, "name", path);
  const std::string at = fmt::format("{} ({})", path, d.name);
  d.raft = r.get_or<std::string>(n, "raft", at, "");
  d.ccd = r.get_or<std::string>(n, "ccd", at, "");
  d.serial = r.get_or<std::string>(n, "serial", at, "");
  d.raft_serial = r.get_or<std::string>(n, "raft_serial", at, "");
  d.purpose = parse_purpose(r, r.get_or<std::string>(n, "purpose", at, "SCIENCE"), Reader::join(at, "purpose"));
  d.physical_type = r.get_or<std::string>(n, "physical_type", at, "");
  const auto fp = r.numbers(r.child(n, "focal_plane_mm", at), Reader::join(at, "focal_plane_mm"));
  if (fp.size() != 2) r.fail(Reader::join(at, "focal_plane_mm"), "expected [x, y] in millimetres");
  d.focal_plane_mm = {fp[0], fp[1]};
  d.yaw_deg = r.get_or<double>(n, "yaw_deg", at, 0.0);
  d.pixel_size_um = r.get<double>(n, "pixel_size_um", at);
  d.bbox = r.box(n, "bbox", at);
  d.header = r.strings(n, "header", at);
  const auto amps = r.child(n, "amplifiers", at);
  if (!amps.IsSequence()) r.fail(Reader::join(at, "amplifiers"), "expected a list of amplifiers");
  for (std::size_t i = 0; i < amps.size(); ++i)
    d.amplifiers.push_back(parse_amplifier(r, amps[i], fmt::format("{}.amplifiers[{}]", at, i)));
  if (const auto xt = n["crosstalk"]; xt && !xt.IsNull()) {
    if (!xt.IsSequence()) r.fail(Reader::join(at, "crosstalk"), "expected a list of rows");
    for (std::size_t i = 0; i < xt.size(); ++i)
      d.crosstalk.push_back(r.numbers(xt[i], fmt::format("{}.crosstalk[{}]", at, i)));
  }
  return d;
}

}  // namespace

fs::path data_dir() {
  if (const char* env = std::getenv("MAJORDOME_DATA_DIR"); env != nullptr && *env != '\0') return env;
  return MAJORDOME_DATA_DIR;
}

std::vector<std::string> known_cameras() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir() / "instruments", ec)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Camera load_camera(std::string_view name) {
  const fs::path path = data_dir() / "instruments" / (std::string(name) + ".yaml");
  if (name.empty() || name.find('/') != std::string_view::npos || !fs::exists(path)) {
    std::string known;
    for (const auto& n : known_cameras()) known += (known.empty() ? "" : ", ") + n;
    throw NotFoundError(fmt::format("unknown camera '{}': no {}; known cameras: {}", name, path.string(),
                                    known.empty() ? "(none; set MAJORDOME_DATA_DIR)" : known));
  }
  return load_camera_file(path);
}

namespace {

Camera parse_camera(const std::string& text, const fs::path& path) {
  const Reader r(path.string());
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(fmt::format("camera description {} is not valid YAML: {}", path.string(), e.what()));
  }
  if (!root.IsMap()) r.fail("(top level)", "expected a mapping with format_version, instrument, detectors, …");
  const int version = r.get<int>(root, "format_version", "");
  if (version != kCameraFormatVersion)
    r.fail("format_version", fmt::format("version {} is not supported; this majordome reads version {}", version,
                                         kCameraFormatVersion));

  Camera::Parts parts;
  parts.source = path;
  parts.name = r.get<std::string>(root, "instrument", "");
  parts.telescope = r.get_or<std::string>(root, "telescope", "", "");
  parts.plate_scale_arcsec_per_mm = r.get<double>(root, "plate_scale", "");
  if (const auto fd = root["field_distortion"]; fd && !fd.IsNull())
    parts.field_distortion = r.numbers(fd, "field_distortion");
  parts.focal_plane_parity = r.get_or<bool>(root, "focal_plane_parity", "", false);
  parts.header = r.strings(root, "header", "");
  if (const auto site = root["site"]; site && !site.IsNull()) {
    parts.site.longitude_deg = r.get<double>(site, "longitude_deg", "site");
    parts.site.latitude_deg = r.get<double>(site, "latitude_deg", "site");
    parts.site.elevation_m = r.get_or<double>(site, "elevation_m", "site", 0.0);
  }
  if (const auto filters = root["filters"]; filters && !filters.IsNull()) {
    if (!filters.IsSequence()) r.fail("filters", "expected a list of filters");
    for (std::size_t i = 0; i < filters.size(); ++i) {
      const std::string at = fmt::format("filters[{}]", i);
      Filter f;
      f.physical_filter = r.get<std::string>(filters[i], "physical_filter", at);
      f.band = r.get<std::string>(filters[i], "band", at);
      f.zero_point = r.get_or<double>(filters[i], "zero_point", at, 28.0);
      f.sky_brightness = r.get_or<double>(filters[i], "sky_brightness", at, 21.0);
      f.header = r.strings(filters[i], "header", at);
      parts.filters.push_back(std::move(f));
    }
  }
  const auto detectors = r.child(root, "detectors", "");
  if (!detectors.IsSequence()) r.fail("detectors", "expected a list of detectors");
  for (std::size_t i = 0; i < detectors.size(); ++i)
    parts.detectors.push_back(parse_detector(r, detectors[i], fmt::format("detectors[{}]", i)));
  return Camera::from_parts(std::move(parts));
}

}  // namespace

// Parsing LSSTCam.yaml (1.8 MB, 205 detectors) takes ~0.4 s with yaml-cpp, and one command may
// need a camera several times (check, register, curated calibrations): a file is parsed again
// only when its bytes differ from the last parse (reading and comparing them takes ~1 ms).
Camera load_camera_file(const fs::path& path) {
  if (!fs::exists(path)) throw NotFoundError(fmt::format("camera description {} does not exist", path.string()));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  if (!in || !(bytes << in.rdbuf())) throw IoError(fmt::format("cannot read camera description {}", path.string()));
  std::string text = std::move(bytes).str();
  struct Parsed {
    std::string text;
    std::shared_ptr<const Camera> camera;
  };
  static std::mutex mutex;
  static std::map<fs::path, Parsed> cache;  // by absolute path
  const fs::path key = fs::absolute(path).lexically_normal();
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end() && it->second.text == text) return *it->second.camera;
  }
  auto camera = std::make_shared<const Camera>(parse_camera(text, path));
  std::lock_guard lock(mutex);
  cache[key] = Parsed{std::move(text), camera};
  return *camera;
}

}  // namespace majordome::instrument
