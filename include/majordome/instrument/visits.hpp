// Visit definition (`butler define-visits`): groups science exposures into visits and writes
// the visit, visit_definition, visit_system, visit_system_membership and
// visit_detector_region records, with sky regions computed from each exposure's boresight,
// rotation and the camera geometry.
//
// Visit systems (Rubin's ids and names):
//   0 "one-to-one"         one visit per exposure: visit id = exposure id, name = obs_id;
//   1 "by-group-metadata"  one visit per exposure group (the exposure record's `group`):
//                          id = the smallest exposure id of the group, name = the group name;
//   2 "by-seq-start-end"   one visit per (day_obs, seq_start, seq_end) run of snaps: id and name
//                          of its first exposure.
// Groupings (config.groupExposures.name): "one-to-one", "by-group-metadata" and Rubin's default
// "one-to-one-and-by-counter", which defines systems 0 and 2 together: every exposure gets its
// one-to-one visit (a lone snap's visit is in both systems), and a multi-snap sequence also gets
// its system-2 visit, its first exposure's one-to-one visit then being renamed <obs_id>_first
// with id 9<exposure id> so the two do not clash. A sequence whose first snap is missing gets no
// multi-snap visit.
// Only exposures that can see the sky become visits (can_see_sky, or observation_type
// "science" when can_see_sky is unknown), as Rubin does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/core/progress.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/registry/registry.hpp"
#include "majordome/sphere/convex_polygon.hpp"

namespace majordome::instrument {

enum class VisitGrouping { kOneToOne, kByGroupMetadata, kOneToOneAndByCounter };

// "one-to-one", "by-group-metadata", "one-to-one-and-by-counter".
std::string_view visit_grouping_name(VisitGrouping grouping);
// The name of visit system `id` (0, 1, 2).
std::string_view visit_system_name(int id);
// Parses a visit system name; InvalidConfigError listing the accepted names.
VisitGrouping parse_visit_grouping(std::string_view name);

struct DefineVisitsOptions {
  VisitGrouping grouping = VisitGrouping::kOneToOneAndByCounter;  // Rubin's default
  // Only these exposures (e.g. those a --where expression selects); nullopt: every exposure
  // record of the instrument (as Rubin: raws are not needed, the records are).
  std::optional<std::set<std::int64_t>> only_exposures;
  // A visit already defined differently: replace it (its detector regions too) rather than
  // fail (update_records), or leave it and warn (skip_conflicting).
  bool update_records = false;
  bool skip_conflicting = false;
  // Rubin's --collections: where the camera is looked up. majordome's camera is the
  // instrument's own description (every detector of it gets a visit_detector_region), so they
  // are only checked to exist.
  std::vector<std::string> collections;
  // Detector boxes are grown by this many pixels on every side before they are mapped to
  // the sky (Rubin's computeVisitRegions padding), so regions cover pointing errors.
  int padding_pixels = 250;
  // Not owned; may be null. Phase "defining visits", one unit per visit computed;
  // Progress::cancel() stops at the next visit with CancelledError, nothing written.
  Progress* progress = nullptr;
};

// Reads Rubin config overrides into `options`: a config.py text or file with
// `config.groupExposures.name="…"` and `config.computeVisitRegions.padding=N` (majordome/core/
// rubin_config.hpp reads the statements), or one `-c field=value` override. InvalidConfigError
// naming the file, line and the accepted keys.
void apply_define_visits_config(DefineVisitsOptions& options, const std::string& text, const std::string& source);
void apply_define_visits_config_file(DefineVisitsOptions& options, const std::filesystem::path& path);
void apply_define_visits_override(DefineVisitsOptions& options, const std::string& text);

struct DefineVisitsResult {
  std::string instrument;
  std::size_t exposures = 0;          // exposures with raws in the collections
  std::size_t not_science = 0;        // of which skipped: they cannot see the sky
  std::size_t no_pointing = 0;        // skipped: no tracking RA/Dec in the exposure record
  std::size_t visits = 0;             // visits of the chosen grouping (new or already defined)
  std::size_t new_visits = 0;         // visits written by this call
  std::size_t updated_visits = 0;     // visits replaced (update_records)
  std::size_t conflicting = 0;        // visits left as they were (skip_conflicting)
  std::vector<int> visit_systems;     // the systems the grouping defines (0, 1, 2)
  std::size_t detector_regions = 0;   // visit_detector_region rows written
  std::vector<std::string> warnings;  // one line per skipped exposure or visit
};

// Defines the visits of `instrument` (our name or Rubin class name). Visits already defined
// identically are left alone; a visit already defined differently is a ConflictError unless
// options say to update or skip it.
// All writes are one transaction, after every visit is computed (a cancellation or an
// error leaves the repository as it was).
DefineVisitsResult define_visits(registry::Registry& registry, std::string_view instrument,
                                 const DefineVisitsOptions& options = {});

// The sky polygon of a detector for a pointing: the corners of its bounding box grown by
// `padding_pixels`, through the camera's transforms (field_to_sky).
sphere::ConvexPolygon detector_sky_polygon(const Camera& camera, const Detector& detector, const Pointing& pointing,
                                           int padding_pixels = 0);

}  // namespace majordome::instrument
