// Private state of a Butler.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>

#include "majordome/butler/butler.hpp"
#include "majordome/datastore/file_templates.hpp"

namespace majordome::butler {

struct Butler::Impl {
  YAML::Node config;
  bool checksum = false;
  datastore::FileTemplates templates;
  std::map<std::string, std::optional<dimensions::DimensionRecord>> record_cache;
};

}  // namespace majordome::butler
