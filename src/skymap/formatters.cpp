#include "majordome/skymap/formatters.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>

#include "majordome/core/error.hpp"
#include "majordome/skymap/skymap.hpp"

namespace majordome::skymap {

namespace {

constexpr std::string_view kVersionLine = "# majordome SkyMap, format version ";

// A skymap is its definition: get() rebuilds the same tracts and patches from it. The
// fields of the skymap kind and tract builder not in use are not stored (they change
// nothing).
class SkyMapFormatter final : public datastore::Formatter {
 public:
  std::string_view name() const override { return "majordome.skymap.SkyMapFormatter"; }
  std::string_view extension() const override { return ".yaml"; }
  void write(const datastore::InMemoryDataset& object, const std::filesystem::path& path) const override {
    const auto* skymap = object.as<SkyMap>();
    if (!skymap) throw InvalidArgumentError("this formatter writes skymap::SkyMap objects");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << kVersionLine << kSkyMapFormatVersion << "\n" << skymap->config().canonical_yaml();
    out.close();
    if (!out) throw IoError(fmt::format("cannot write {}", path.string()));
  }
  datastore::InMemoryDataset read(const std::filesystem::path& path, const datastore::StorageClass& sc,
                                  const datastore::ReadRequest& request) const override {
    if (!request.component.empty() || !request.parameters.empty())
      throw InvalidArgumentError(fmt::format("storage class {} has no components or read parameters", sc.name));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw NotFoundError(fmt::format("cannot open {}", path.string()));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    if (text.rfind(kVersionLine, 0) != 0)
      throw CorruptFileError(fmt::format("{} is not a majordome SkyMap file (no '{}' first line)", path.string(),
                                         kVersionLine));
    int version = 0;
    const char* digits = text.data() + kVersionLine.size();
    auto [end, ec] = std::from_chars(digits, text.data() + text.size(), version);
    if (ec != std::errc() || version > kSkyMapFormatVersion)
      throw CorruptFileError(fmt::format("{}: SkyMap format version newer than this majordome reads ({}); upgrade "
                                         "majordome",
                                         path.string(), kSkyMapFormatVersion));
    try {
      return datastore::InMemoryDataset::own(SkyMap(SkyMapConfig::from_yaml(text, path.string())));
    } catch (const InvalidConfigError& e) {
      throw CorruptFileError(e.what());
    }
  }
};

}  // namespace

void add_formatters(datastore::FormatterRegistry& registry) {
  registry.add_storage_class({"SkyMap", typeid(SkyMap), "majordome::skymap::SkyMap", {}, {}});
  registry.add_formatter(std::make_shared<SkyMapFormatter>(), {"SkyMap"});
}

}  // namespace majordome::skymap
