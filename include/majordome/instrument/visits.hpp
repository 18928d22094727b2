// Visit definition (`butler define-visits`): groups science exposures into visits and writes
// the visit, visit_definition, visit_system, visit_system_membership and
// visit_detector_region records, with sky regions computed from each exposure's boresight,
// rotation and the camera geometry.
//
// Visit systems (Rubin's ids and names):
//   0 "one-to-one"         one visit per exposure: visit id = exposure id, name = obs_id;
//   1 "by-group-metadata"  one visit per exposure group (the exposure record's `group`):
//                          id = the smallest exposure id of the group, name = the group name.
// Only exposures that can see the sky become visits (can_see_sky, or observation_type
// "science" when can_see_sky is unknown), as Rubin does.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/instrument/camera.hpp"
#include "majordome/registry/registry.hpp"
#include "majordome/sphere/convex_polygon.hpp"

namespace majordome::instrument {

enum class VisitGrouping { kOneToOne = 0, kByGroupMetadata = 1 };

// "one-to-one", "by-group-metadata".
std::string_view visit_system_name(VisitGrouping grouping);
// Parses a visit system name; InvalidConfigError listing the accepted names.
VisitGrouping parse_visit_grouping(std::string_view name);

struct DefineVisitsOptions {
  VisitGrouping grouping = VisitGrouping::kOneToOne;
  // Collections searched for raws (their detectors get visit_detector_region rows); empty:
  // <INSTRUMENT>/raw/all.
  std::vector<std::string> collections;
  // Detector boxes are grown by this many pixels on every side before they are mapped to
  // the sky (Rubin's computeVisitRegions padding), so regions cover pointing errors.
  int padding_pixels = 250;
  // Called with (visits done, total visits).
  std::function<void(std::size_t, std::size_t)> progress;
};

// Reads Rubin-style config overrides into `options`: lines `config.groupExposures.name="…"`
// and `config.computeVisitRegions.padding=N` (the `config.` prefix optional, # comments and
// blank lines ignored). InvalidConfigError naming the file, line and the accepted keys.
void apply_define_visits_config(DefineVisitsOptions& options, const std::string& text, const std::string& source);
void apply_define_visits_config_file(DefineVisitsOptions& options, const std::filesystem::path& path);

struct DefineVisitsResult {
  std::string instrument;
  std::size_t exposures = 0;          // exposures with raws in the collections
  std::size_t not_science = 0;        // of which skipped: they cannot see the sky
  std::size_t no_pointing = 0;        // skipped: no tracking RA/Dec in the exposure record
  std::size_t visits = 0;             // visits of the chosen system (new or already defined)
  std::size_t new_visits = 0;         // visits written by this call
  std::size_t detector_regions = 0;   // visit_detector_region rows written
  std::vector<std::string> warnings;  // one line per skipped exposure without a pointing
};

// Defines the visits of `instrument` (our name or Rubin class name). Visits already defined
// identically are left alone; a visit already defined differently is a ConflictError.
// All writes are one transaction.
DefineVisitsResult define_visits(registry::Registry& registry, std::string_view instrument,
                                 const DefineVisitsOptions& options = {});

// The sky polygon of a detector for a pointing: the corners of its bounding box grown by
// `padding_pixels`, through the camera's transforms (field_to_sky).
sphere::ConvexPolygon detector_sky_polygon(const Camera& camera, const Detector& detector, const Pointing& pointing,
                                           int padding_pixels = 0);

}  // namespace majordome::instrument
