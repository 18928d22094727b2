// Private: YAML scalars → FITS header values (shared by the dump reader and the
// correction files).
#pragma once

#include <yaml-cpp/yaml.h>

#include "majordome/image/header.hpp"

namespace majordome::instrument::detail {

// A quoted scalar is a string; a plain one is null (~, null, empty), a boolean, an
// integer, a float or else a string, as YAML 1.1 reads them.
image::HeaderValue yaml_scalar(const YAML::Node& node);

}  // namespace majordome::instrument::detail
