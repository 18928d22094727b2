// DetectorInfo: which detector of which camera an image comes from.
#pragma once

#include <optional>
#include <string>

namespace majordome::image {

// A small summary; the full camera geometry lives in the instrument module. Value type.
struct DetectorInfo {
  std::optional<int> id;      // detector number in its camera
  std::string name;           // "R22_S11"
  std::string serial;         // sensor serial number
  std::string physical_type;  // "E2V", "ITL", …

  friend bool operator==(const DetectorInfo&, const DetectorInfo&) = default;
};

}  // namespace majordome::image
