// Camera: the geometry and electronics of an instrument, loaded from data/instruments/<name>.yaml
// (format version 1, docs/formats/camera.md).
//
// Coordinate systems, outermost to innermost:
//   raw amplifier   pixels of one amplifier HDU as read out (prescan, data, overscan), 0-based;
//   detector        the assembled image of one CCD, 0-based, pixel centres at integers. The
//                   amplifier data boxes tile it; the layout is that of the raw headers' DETSEC;
//   focal plane     millimetres on the focal plane, origin on the optical axis;
//   field angle     radians from the optical axis, (x, y) along the focal-plane axes:
//                   field = plate_scale · R(|fp|) · fp / |fp| with R the radial polynomial
//                   Σ c_i r^i of `field_distortion` (mm → mm, Rubin's cameraTransforms);
//   sky             field angles are gnomonic (TAN) intermediate world coordinates around the
//                   boresight, rotated by the boresight rotation angle (see field_to_sky()).
//
// Value types (copies are deep); all const members are thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/image/box.hpp"

namespace majordome::instrument {

inline constexpr int kCameraFormatVersion = 1;

enum class DetectorPurpose { kScience, kFocus, kGuider, kWavefront };
// "SCIENCE", "FOCUS", "GUIDER", "WAVEFRONT" (as Rubin's DetectorType names them).
std::string_view purpose_name(DetectorPurpose purpose);

// The corner of the assembled data box read out first.
enum class ReadCorner { kLowerLeft, kLowerRight, kUpperLeft, kUpperRight };
// "LL", "LR", "UL", "UR".
std::string_view read_corner_name(ReadCorner corner);

struct Amplifier {
  std::string name;  // "C10" … "C00"
  int hdu = 0;       // HDU index of this amplifier in a raw file (1-based: the primary is 0)
  // Where the data pixels go in the assembled detector image.
  image::Box2I bbox;
  // Boxes in the raw amplifier image (raw_bbox covers the whole HDU, min at (0, 0)).
  image::Box2I raw_bbox;
  image::Box2I raw_data_bbox;
  image::Box2I raw_serial_prescan_bbox;
  image::Box2I raw_serial_overscan_bbox;
  image::Box2I raw_parallel_overscan_bbox;
  // Raw → assembled: the data box is mirrored in x and/or y before it is placed at bbox.
  bool raw_flip_x = false;
  bool raw_flip_y = false;
  double gain = 1.0;           // electrons per ADU
  double read_noise = 0.0;     // electrons rms
  double saturation = 0.0;     // ADU, above the bias level
  double bias_level = 0.0;     // ADU
  double dark_current = 0.0;   // electrons per second per pixel
  // Non-linearity as Rubin's polynomial linearizer corrects it, in ADU:
  // corrected = raw + Σ_k linearity_coeffs[k] · raw^(k+2).
  std::vector<double> linearity_coeffs;

  ReadCorner read_corner() const;
  // The raw pixel holding assembled pixel `p` (detector coordinates, inside bbox).
  image::Point2I raw_from_assembled(image::Point2I p) const;
  // DATASEC / DETSEC / BIASSEC header values ("[4:512,1:2000]", "[509:1,1:2000]": 1-based,
  // inclusive, reversed ranges for mirrored axes, as in LSST raw headers).
  std::string datasec() const;
  std::string detsec() const;
  std::string biassec() const;
};

struct Detector {
  int id = 0;
  std::string name;           // "R22_S11" (Rubin's full detector name)
  std::string raft;           // "R22"
  std::string ccd;            // "S11"
  std::string serial;         // "ITL-3800C-229"
  std::string raft_serial;    // "LCA-11021_RTM-031"
  DetectorPurpose purpose = DetectorPurpose::kScience;
  std::string physical_type;  // "ITL", "E2V" (LSST); "HPK" (HSC), "LBNL" (DECam)
  std::array<double, 2> focal_plane_mm{};  // centre of the detector on the focal plane
  double yaw_deg = 0.0;                    // rotation of the detector axes on the focal plane
  double pixel_size_um = 10.0;
  image::Box2I bbox;                       // the assembled image, min at (0, 0)
  std::vector<Amplifier> amplifiers;       // in HDU order
  // crosstalk[victim][source]: fraction of the source amplifier's signal (ADU, same raw pixel)
  // added to the victim. Empty = none; otherwise amplifiers.size() square.
  std::vector<std::vector<double>> crosstalk;
  // Extra primary-header values for raws of this detector (e.g. RAFTBAY for LATISS).
  std::map<std::string, std::string> header;

  const Amplifier* find_amplifier(std::string_view name) const;
  const Amplifier& get_amplifier(std::string_view name) const;  // NotFoundError listing names
  // DETSIZE header value: "[1:4072,1:4000]".
  std::string detsize() const;
};

struct Filter {
  std::string physical_filter;  // "r_03", "SDSSr_65mm~empty"
  std::string band;             // "r"
  double zero_point = 0.0;      // AB magnitude of a source giving 1 electron per second
  double sky_brightness = 0.0;  // dark-sky AB magnitude per square arcsecond
  std::map<std::string, std::string> header;  // keywords a raw taken through it carries
};

struct Site {
  double longitude_deg = 0.0;
  double latitude_deg = 0.0;
  double elevation_m = 0.0;
};

// A field angle, radians, along the focal-plane axes.
struct FieldAngle {
  double x = 0.0;
  double y = 0.0;
};

// Where the telescope points: the boresight and the boresight rotation angle (Rubin's
// rotSkyPos; the header keyword ROTPA is this + 90°).
struct Pointing {
  double ra_deg = 0.0;
  double dec_deg = 0.0;
  double rotation_deg = 0.0;
};

class Camera {
 public:
  const std::string& name() const { return name_; }            // "LSSTComCam"
  const std::string& telescope() const { return telescope_; }  // "Simonyi Survey Telescope"
  const std::filesystem::path& source() const { return source_; }
  double plate_scale_arcsec_per_mm() const { return plate_scale_; }
  // Coefficients c_0, c_1, … of the radial focal-plane distortion (mm → mm).
  const std::vector<double>& field_distortion() const { return distortion_; }
  // True when the focal plane is seen mirrored (LATISS): x is negated before the sky mapping.
  bool focal_plane_parity() const { return parity_; }
  const Site& site() const { return site_; }
  // Instrument-wide raw primary-header values (INSTRUME, TELESCOP, CAMCODE, …).
  const std::map<std::string, std::string>& header() const { return header_; }

  const std::vector<Detector>& detectors() const { return detectors_; }
  const Detector* find_detector(int id) const;
  const Detector* find_detector(std::string_view name) const;
  // NotFoundError naming the camera and listing the known detectors.
  const Detector& get_detector(int id) const;
  const Detector& get_detector(std::string_view name) const;

  const std::vector<Filter>& filters() const { return filters_; }
  const Filter* find_filter(std::string_view physical_filter) const;
  const Filter& get_filter(std::string_view physical_filter) const;
  // The first filter of this band ("r" → "r_03"); NotFoundError listing the bands.
  const Filter& get_filter_for_band(std::string_view band) const;

  // --- transforms ---------------------------------------------------------------------
  // Detector pixel (0-based) → focal plane (mm).
  std::array<double, 2> pixel_to_focal_plane(const Detector& detector, image::Point2D pixel) const;
  image::Point2D focal_plane_to_pixel(const Detector& detector, std::array<double, 2> fp_mm) const;
  FieldAngle focal_plane_to_field(std::array<double, 2> fp_mm) const;
  // Inverse of focal_plane_to_field (Newton iteration on the radial polynomial).
  std::array<double, 2> field_to_focal_plane(FieldAngle field) const;
  FieldAngle pixel_to_field(const Detector& detector, image::Point2D pixel) const;
  image::Point2D field_to_pixel(const Detector& detector, FieldAngle field) const;
  // The four corners of the detector's assembled image (outer pixel edges), counter-clockwise
  // from (-0.5, -0.5), as field angles.
  std::array<FieldAngle, 4> detector_corners(const Detector& detector) const;

  // Builds a camera from parsed parts (used by the loader and by tests); checks invariants
  // (unique ids/names, amplifier boxes inside and tiling the detector, crosstalk shape) and
  // throws InvalidConfigError naming `source` and the offending key.
  struct Parts;
  static Camera from_parts(Parts parts);

 private:
  std::string name_;
  std::string telescope_;
  std::filesystem::path source_;
  double plate_scale_ = 0.0;
  std::vector<double> distortion_;
  bool parity_ = false;
  Site site_;
  std::map<std::string, std::string> header_;
  std::vector<Detector> detectors_;
  std::vector<Filter> filters_;
};

struct Camera::Parts {
  std::string name;
  std::string telescope;
  std::filesystem::path source;
  double plate_scale_arcsec_per_mm = 0.0;
  std::vector<double> field_distortion{0.0, 1.0};
  bool focal_plane_parity = false;
  Site site;
  std::map<std::string, std::string> header;
  std::vector<Detector> detectors;
  std::vector<Filter> filters;
};

// Sky position (degrees) of a field angle for a pointing: field angles are gnomonic
// coordinates around the boresight; with rotation 0 the focal-plane +y axis points north and
// +x west (east to the left, as on a sky image), and a positive rotation turns the focal
// plane from north through east. A camera with focal_plane_parity() has x negated first.
std::array<double, 2> field_to_sky(const Camera& camera, const Pointing& pointing, FieldAngle field);
// Inverse of field_to_sky; nullopt for a point 90° or more from the boresight.
std::optional<FieldAngle> sky_to_field(const Camera& camera, const Pointing& pointing, double ra_deg,
                                       double dec_deg);

// The names of the cameras in the data directory (sorted), from <data dir>/instruments/*.yaml.
std::vector<std::string> known_cameras();
// The data directory: $MAJORDOME_DATA_DIR if set, else the source tree's data/.
std::filesystem::path data_dir();
// Loads data/instruments/<name>.yaml. NotFoundError listing the known cameras when there is
// no such file; InvalidConfigError naming the file and key for a malformed one. A file is
// parsed once per process and again only if its content changed; thread-safe.
Camera load_camera(std::string_view name);
Camera load_camera_file(const std::filesystem::path& path);

}  // namespace majordome::instrument
