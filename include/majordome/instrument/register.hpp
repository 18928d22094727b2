// Registering an instrument in a repository (`butler register-instrument`): the instrument,
// detector and physical_filter dimension records, from the camera description
// (data/instruments/<name>.yaml).
//
// Instruments are named by majordome's camera name ("LSSTComCam") or by Rubin's
// Instrument class name ("lsst.obs.lsst.LsstComCam"); see docs/instruments.md.
// Pure functions except where a Registry is passed; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/dimensions/data_id.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/registry/registry.hpp"

namespace majordome::instrument {

// What the `instrument` dimension record of an instrument holds.
struct InstrumentInfo {
  std::string name;        // "LSSTComCam" (the camera and translator name)
  std::string class_name;  // "lsst.obs.lsst.LsstComCam" (Rubin's), or "majordome.instrument.TestCam"
  std::int64_t visit_max = 0;
  std::int64_t exposure_max = 0;
  std::int64_t detector_max = 0;
  int visit_system = 0;    // the instrument's default visit system (0 one-to-one, 1 by-group-metadata)
  std::string camera;      // the camera description it uses (data/instruments/<camera>.yaml)
};

// The instruments majordome knows by name, with their Rubin class names (each has a camera
// description in data/instruments/).
std::vector<InstrumentInfo> known_instruments();

// Resolves an instrument given by name or class name (exact, then case-insensitive) to its
// info. NotFoundError listing the accepted names otherwise.
InstrumentInfo get_instrument(std::string_view name_or_class);

// The instrument's camera. NotFoundError "no camera description for X yet" when the
// instrument is known but has no data/instruments/<name>.yaml.
Camera load_instrument_camera(const InstrumentInfo& info);

struct RegisterInstrumentResult {
  InstrumentInfo instrument;
  bool inserted = false;       // false: the same records were already there (nothing written)
  std::size_t detectors = 0;   // detector records the camera defines
  std::size_t filters = 0;     // physical_filter records the camera defines
};

// Writes the instrument record, one detector record per camera detector (id, full_name,
// name_in_raft, raft — NULL when the camera has none —, purpose) and one physical_filter
// record per filter (with its band),
// in one transaction. Registering again with the same records is a no-op; records that
// differ from what is registered are a ConflictError naming the first difference unless
// `update` (then they are replaced).
RegisterInstrumentResult register_instrument(registry::Registry& registry, std::string_view name_or_class,
                                             bool update = false);

// The registered instrument named `name_or_class` (by our name or Rubin class name):
// returns the instrument name the registry uses. NotFoundError naming the fix
// (`butler register-instrument`) when it is not registered.
std::string registered_instrument_name(registry::Registry& registry, std::string_view name_or_class);

// Subfilters of bands for differential chromatic refraction (Rubin's
// `butler register-dcr-subfilters`): `count` subfilter records (ids 0 … count-1) for each band
// that has none yet, one transaction per band (as Rubin). A band that already has subfilters
// is left as it is (its ids are reported). InvalidArgumentError, before anything is written,
// for a count below 1 or a band name that is empty or over 32 characters.
struct DcrSubfilters {
  std::string band;
  std::vector<std::int64_t> ids;  // inserted now, or already there
  bool inserted = false;
};
std::vector<DcrSubfilters> register_dcr_subfilters(registry::Registry& registry, int count,
                                                   const std::vector<std::string>& bands);

// A dimension record of `element` from field values by name; fields not given are NULL.
dimensions::DimensionRecord make_record(const dimensions::DimensionElement& element,
                                        const std::map<std::string, dimensions::FieldValue>& values);

}  // namespace majordome::instrument
