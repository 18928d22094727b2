#include "majordome/instrument/formatters.hpp"

#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/instrument/camera.hpp"
#include "majordome/instrument/defects.hpp"

namespace majordome::instrument {

namespace {

// A camera is its description file: written as the bytes it was loaded from, read with
// load_camera_file.
class CameraYamlFormatter final : public datastore::Formatter {
 public:
  std::string_view name() const override { return "majordome.instrument.CameraYamlFormatter"; }
  std::string_view extension() const override { return ".yaml"; }
  void write(const datastore::InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* camera = object.as<Camera>();
    if (!camera) throw InvalidArgumentError("this formatter writes instrument::Camera objects");
    if (camera->source().empty())
      throw UnsupportedError(fmt::format("camera {} was not loaded from a file and cannot be written", camera->name()));
    std::ifstream in(camera->source(), std::ios::binary);
    if (!in) throw IoError(fmt::format("cannot read the description of camera {}: {}", camera->name(),
                                       camera->source().string()));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    out.close();
    if (!out) throw IoError(fmt::format("cannot write {}", path.string()));
  }
  datastore::InMemoryDataset read(const std::filesystem::path& path, const datastore::StorageClass& sc,
                                  const datastore::ReadRequest& request) const override {
    if (!request.component.empty() || !request.parameters.empty())
      throw InvalidArgumentError(fmt::format("storage class {} has no components or read parameters", sc.name));
    return datastore::InMemoryDataset::own(load_camera_file(path));
  }
};

// Defects: written as a FITS table, read from that or from Rubin's ECSV (defects.hpp).
class DefectsFormatter final : public datastore::Formatter {
 public:
  std::string_view name() const override { return "majordome.instrument.DefectsFormatter"; }
  std::string_view extension() const override { return ".fits"; }
  void write(const datastore::InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* defects = object.as<Defects>();
    if (!defects) throw InvalidArgumentError("this formatter writes instrument::Defects objects");
    write_defects_file(path, *defects);
  }
  datastore::InMemoryDataset read(const std::filesystem::path& path, const datastore::StorageClass& sc,
                                  const datastore::ReadRequest& request) const override {
    if (!request.component.empty() || !request.parameters.empty())
      throw InvalidArgumentError(fmt::format("storage class {} has no components or read parameters", sc.name));
    return datastore::InMemoryDataset::own(read_defects(path));
  }
};

}  // namespace

void add_formatters(datastore::FormatterRegistry& registry) {
  registry.add_storage_class({"Camera", typeid(Camera), "majordome::instrument::Camera", {}, {}});
  registry.add_formatter(std::make_shared<CameraYamlFormatter>(), {"Camera"});
  registry.add_storage_class({"Defects", typeid(Defects), "majordome::instrument::Defects", {}, {}});
  registry.add_formatter(std::make_shared<DefectsFormatter>(), {"Defects"});
  // write-curated-calibrations records its ECSV defects under this name.
  registry.add_alias("majordome.instrument.CuratedEcsvFormatter", "majordome.instrument.DefectsFormatter");
}

}  // namespace majordome::instrument
