// Formatters of the image module's storage classes (formatters.hpp).
#include "majordome/image/formatters.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exposure_keywords.hpp"
#include "fits_cards.hpp"
#include "majordome/core/error.hpp"
#include "majordome/image/background.hpp"
#include "majordome/image/catalog.hpp"
#include "majordome/image/exposure.hpp"
#include "majordome/image/exposure_fits.hpp"
#include "majordome/image/exposure_i.hpp"
#include "majordome/image/fits_file.hpp"

namespace majordome::image {

namespace {

using datastore::Formatter;
using datastore::InMemoryDataset;
using datastore::ReadRequest;
using datastore::StorageClass;
namespace fs = std::filesystem;

template <class T>
const T& object_as(const InMemoryDataset& object, const char* type_name) {
  const T* value = object.as<T>();
  if (!value) throw InvalidArgumentError(fmt::format("this formatter writes {} objects", type_name));
  return *value;
}

std::optional<Box2I> bbox_parameter(const ReadRequest& request) {
  auto it = request.parameters.find("bbox");
  if (it == request.parameters.end()) return std::nullopt;
  if (const auto* box = std::any_cast<Box2I>(&it->second)) return *box;
  throw InvalidArgumentError("the read parameter 'bbox' must be an image::Box2I");
}

std::vector<std::string> columns_parameter(const ReadRequest& request) {
  auto it = request.parameters.find("columns");
  if (it == request.parameters.end()) return {};
  if (const auto* columns = std::any_cast<std::vector<std::string>>(&it->second)) {
    if (columns->empty()) throw InvalidArgumentError("the read parameter 'columns' names no column");
    return *columns;
  }
  throw InvalidArgumentError("the read parameter 'columns' must be a std::vector<std::string>");
}

[[noreturn]] void unknown_component(const StorageClass& sc, const std::string& component) {
  throw InvalidArgumentError(fmt::format("storage class {} has no component '{}'", sc.name, component));
}

// ---- ExposureF, Exposure, ExposureI

class ExposureFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.image.ExposureFormatter"; }
  std::string_view extension() const override { return ".fits"; }
  void write(const InMemoryDataset& object, const fs::path& path) const override {
    if (const auto* integer = object.as<ExposureI>()) {
      write_exposure_file(path, *integer);
      return;
    }
    if (!object.holds<Exposure>())
      throw InvalidArgumentError("this formatter writes image::Exposure and image::ExposureI objects");
    write_exposure_file(path, *object.as<Exposure>());
  }
  // The storage class decides the pixel type of the image read (ExposureI: int32).
  InMemoryDataset read(const fs::path& path, const StorageClass& sc, const ReadRequest& request) const override {
    ExposureReader reader(path);
    const auto bbox = bbox_parameter(request);
    const std::string& c = request.component;
    const bool integer = sc.name == "ExposureI";
    if (c.empty()) {
      ExposureReadOptions options;
      options.bbox = bbox;
      if (integer) return InMemoryDataset::own(reader.read_i(options));
      return InMemoryDataset::own(reader.read(options));
    }
    if (c == "image" && integer) return InMemoryDataset::own(reader.image_i(bbox));
    if (c == "image") return InMemoryDataset::own(reader.image(bbox));
    if (c == "mask") return InMemoryDataset::own(reader.mask(bbox));
    if (c == "variance") return InMemoryDataset::own(reader.variance(bbox));
    if (bbox) throw InvalidArgumentError(fmt::format("the component {} takes no 'bbox' parameter", c));
    if (c == "bbox") return InMemoryDataset::own(reader.bbox());
    if (c == "wcs") return InMemoryDataset::own(reader.wcs());
    if (c == "psf") return InMemoryDataset::own(reader.psf());
    if (c == "photoCalib") return InMemoryDataset::own(reader.photo_calib().value_or(PhotoCalib{}));
    if (c == "visitInfo") return InMemoryDataset::own(reader.visit_info().value_or(VisitInfo{}));
    if (c == "filter") return InMemoryDataset::own(reader.filter().value_or(FilterLabel{}));
    if (c == "detector") return InMemoryDataset::own(reader.detector().value_or(DetectorInfo{}));
    if (c == "metadata") return InMemoryDataset::own(reader.metadata());
    unknown_component(sc, c);
  }
};

// ---- ImageF/D/I/U, MaskX: one image HDU, xy0 in the LTV/CRVAL1A cards

template <class T>
Image<T> read_single_image(const fs::path& path, const std::optional<Box2I>& bbox, Header* header_out = nullptr) {
  FitsFile file(path, FitsMode::kRead);
  int hdu = 0;
  file.move_to(0);
  if (file.image_info().shape.empty() && file.hdu_count() > 1) hdu = 1;  // a compressed image in HDU 1
  file.move_to(hdu);
  const Header header = file.read_header();
  const Point2I xy0 = detail::read_xy0(header);
  Image<T> image;
  if (bbox) {
    const auto info = file.image_info();
    const Box2I stored(xy0, {static_cast<int>(info.shape.at(0)), static_cast<int>(info.shape.at(1))});
    if (!stored.contains(*bbox))
      throw InvalidArgumentError(
          fmt::format("{}: the box {} is not inside the image's {}", path.string(), bbox->str(), stored.str()));
    image = file.read_image<T>(bbox->shifted(-xy0.x, -xy0.y));
  } else {
    image = file.read_image<T>();
  }
  image.set_xy0({image.xy0().x + xy0.x, image.xy0().y + xy0.y});
  if (header_out) *header_out = header;
  return image;
}

class ImageFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.image.ImageFormatter"; }
  std::string_view extension() const override { return ".fits"; }
  void write(const InMemoryDataset& object, const fs::path& path) const override {
    if (const auto* mask = object.as<Mask>()) {
      Header h = detail::xy0_cards(mask->xy0());
      for (const auto& [bit, plane] : mask->planes().entries()) h.set("MP_" + plane, bit, "mask plane bit");
      FitsFile file(path, FitsMode::kCreate);
      file.write_image<MaskPixel>(*mask, h);
      file.close();
      return;
    }
    if (!write_one<float>(object, path) && !write_one<double>(object, path) &&
        !write_one<std::int32_t>(object, path) && !write_one<std::uint16_t>(object, path))
      throw InvalidArgumentError(
          "this formatter writes image::Image<float|double|int32_t|uint16_t> and image::Mask objects");
  }
  // The storage class decides the pixel type read (cfitsio converts).
  InMemoryDataset read(const fs::path& path, const StorageClass& sc, const ReadRequest& request) const override {
    if (!request.component.empty()) unknown_component(sc, request.component);
    const auto bbox = bbox_parameter(request);
    if (sc.name == "MaskX") {
      Header header;
      Image<MaskPixel> pixels = read_single_image<MaskPixel>(path, bbox, &header);
      MaskPlanes planes;
      for (const auto& card : header)
        if (card.keyword.rfind("MP_", 0) == 0)
          if (const auto* bit = std::get_if<std::int64_t>(&card.value))
            planes.add(card.keyword.substr(3), static_cast<int>(*bit));
      return InMemoryDataset::own(Mask(std::move(pixels), std::move(planes)));
    }
    if (sc.name == "ImageD") return InMemoryDataset::own(read_single_image<double>(path, bbox));
    if (sc.name == "ImageI") return InMemoryDataset::own(read_single_image<std::int32_t>(path, bbox));
    if (sc.name == "ImageU") return InMemoryDataset::own(read_single_image<std::uint16_t>(path, bbox));
    return InMemoryDataset::own(read_single_image<float>(path, bbox));
  }

 private:
  template <class U>
  static bool write_one(const InMemoryDataset& object, const fs::path& path) {
    const auto* image = object.as<Image<U>>();
    if (!image) return false;
    FitsFile file(path, FitsMode::kCreate);
    file.write_image<U>(*image, detail::xy0_cards(image->xy0()));
    file.close();
    return true;
  }
};

// ---- catalogs: one BINTABLE

class CatalogFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.image.CatalogFormatter"; }
  std::string_view extension() const override { return ".fits"; }
  void write(const InMemoryDataset& object, const fs::path& path) const override {
    const auto& catalog = object_as<Catalog>(object, "image::Catalog");
    FitsFile file(path, FitsMode::kCreate);
    file.write_empty_image();
    file.write_catalog(catalog);
    file.close();
  }
  InMemoryDataset read(const fs::path& path, const StorageClass& sc, const ReadRequest& request) const override {
    FitsFile file(path, FitsMode::kRead);
    std::optional<int> table;
    for (int i = 0, n = file.hdu_count(); i < n && !table; ++i) {
      file.move_to(i);
      if (file.hdu_type() != HduType::kImage) table = i;
    }
    if (!table) throw CorruptFileError(fmt::format("{} holds no table", path.string()));
    file.move_to(*table);
    if (request.component == "columns") {  // the column names only: the header, no rows
      const Header h = file.read_header();
      std::vector<std::string> names;
      for (std::int64_t i = 1, n = h.find_int("TFIELDS").value_or(0); i <= n; ++i)
        names.push_back(h.find_string("TTYPE" + std::to_string(i)).value_or("col" + std::to_string(i)));
      return InMemoryDataset::own(std::move(names));
    }
    if (request.component == "rowcount") {
      const Header h = file.read_header();
      return InMemoryDataset::own(static_cast<std::int64_t>(h.find_int("NAXIS2").value_or(0)));
    }
    if (!request.component.empty()) unknown_component(sc, request.component);
    return InMemoryDataset::own(file.read_catalog(columns_parameter(request)));
  }
};

// ---- standalone components: a header-only FITS file with the Exposure format's cards

class ComponentFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.image.ComponentFormatter"; }
  std::string_view extension() const override { return ".fits"; }
  void write(const InMemoryDataset& object, const fs::path& path) const override {
    Exposure holder;
    Header h;
    std::optional<Catalog> psf_table;
    if (const auto* wcs = object.as<std::shared_ptr<const Wcs>>()) {
      if (!*wcs) throw InvalidArgumentError("cannot write an empty Wcs pointer");
      h = (*wcs)->to_header();
    } else if (const auto* psf = object.as<std::shared_ptr<const Psf>>()) {
      if (!*psf) throw InvalidArgumentError("cannot write an empty Psf pointer");
      psf_table = (*psf)->to_catalog();
      if (!psf_table || (*psf)->persistence_name().empty())
        throw UnsupportedError("this PSF model cannot be saved (it has no file representation)");
      psf_table->metadata().set("PSFTYPE", (*psf)->persistence_name());
    } else if (const auto* pc = object.as<PhotoCalib>()) {
      holder.set_photo_calib(*pc);
    } else if (const auto* vi = object.as<VisitInfo>()) {
      holder.set_visit_info(*vi);
    } else if (const auto* filter = object.as<FilterLabel>()) {
      holder.set_filter(*filter);
    } else if (const auto* detector = object.as<DetectorInfo>()) {
      holder.set_detector(*detector);
    } else if (const auto* box = object.as<Box2I>()) {
      h.set("BBOX_X0", box->min().x, "first column");
      h.set("BBOX_Y0", box->min().y, "first row");
      h.set("BBOX_W", box->width(), "width");
      h.set("BBOX_H", box->height(), "height");
    } else if (const auto* header = object.as<Header>()) {
      for (const auto& card : *header)
        if (card.is_commentary() || !is_structural_keyword(card.keyword)) h.append(card);
    } else {
      throw InvalidArgumentError("this formatter writes Wcs, Psf, PhotoCalib, VisitInfo, FilterLabel, "
                                 "DetectorInfo, Box2I and Header objects");
    }
    detail::write_components(holder, h);
    FitsFile file(path, FitsMode::kCreate);
    file.write_empty_image(h);
    if (psf_table) file.write_catalog(*psf_table, "PSF");
    file.close();
  }
  InMemoryDataset read(const fs::path& path, const StorageClass& sc, const ReadRequest& request) const override {
    if (!request.component.empty()) unknown_component(sc, request.component);
    FitsFile file(path, FitsMode::kRead);
    const Header h = file.read_header();
    Exposure holder;
    detail::read_components(h, holder, path.string());
    const std::string& c = sc.name;
    if (c == "Wcs") return InMemoryDataset::own(std::make_shared<const Wcs>(Wcs::from_header(h)));
    if (c == "Psf") {
      file.move_to_extname("PSF");
      const Catalog table = file.read_catalog();
      if (table.metadata().find_string("PSFTYPE").value_or("") != "GaussianPsf")
        throw UnsupportedError(fmt::format("{}: PSF model '{}' has no reader", path.string(),
                                           table.metadata().find_string("PSFTYPE").value_or("")));
      return InMemoryDataset::own(std::shared_ptr<const Psf>(GaussianPsf::from_catalog(table)));
    }
    if (c == "PhotoCalib") return InMemoryDataset::own(holder.photo_calib().value_or(PhotoCalib{}));
    if (c == "VisitInfo") return InMemoryDataset::own(holder.visit_info().value_or(VisitInfo{}));
    if (c == "FilterLabel") return InMemoryDataset::own(holder.filter().value_or(FilterLabel{}));
    if (c == "Detector") return InMemoryDataset::own(holder.detector().value_or(DetectorInfo{}));
    if (c == "Box2I") {
      auto need = [&](const char* key) {
        auto v = h.find_int(key);
        if (!v) throw CorruptFileError(fmt::format("{}: no {} card: not a Box2I file", path.string(), key));
        return static_cast<int>(*v);
      };
      return InMemoryDataset::own(Box2I({need("BBOX_X0"), need("BBOX_Y0")}, {need("BBOX_W"), need("BBOX_H")}));
    }
    if (c == "PropertyList") {
      Header out;
      for (const auto& card : h)
        if (!detail::is_cfitsio_boilerplate(card) && (card.is_commentary() || !is_structural_keyword(card.keyword)))
          out.append(card);
      return InMemoryDataset::own(std::move(out));
    }
    throw InvalidArgumentError(fmt::format("the component formatter does not read storage class {}", c));
  }
};

// ---- Background: a list of binned models (background.hpp)

class BackgroundFormatter final : public Formatter {
 public:
  std::string_view name() const override { return "majordome.image.BackgroundFormatter"; }
  std::string_view extension() const override { return ".fits"; }
  void write(const InMemoryDataset& object, const fs::path& path) const override {
    write_background_file(path, object_as<BackgroundList>(object, "image::BackgroundList"));
  }
  InMemoryDataset read(const fs::path& path, const StorageClass& sc, const ReadRequest& request) const override {
    if (!request.component.empty()) unknown_component(sc, request.component);
    if (!request.parameters.empty())
      throw InvalidArgumentError(fmt::format("storage class {} takes no read parameters", sc.name));
    return InMemoryDataset::own(read_background(path));
  }
};

template <class T>
StorageClass storage_class(std::string name, std::string cpp_type, std::map<std::string, std::string> components = {},
                           std::vector<std::string> parameters = {}) {
  return {std::move(name), typeid(T), std::move(cpp_type), std::move(components), std::move(parameters)};
}

}  // namespace

void add_formatters(datastore::FormatterRegistry& registry) {
  auto exposure_components = [](const char* image_class) {
    return std::map<std::string, std::string>{{"image", image_class},
                                              {"mask", "MaskX"},
                                              {"variance", "ImageF"},
                                              {"wcs", "Wcs"},
                                              {"psf", "Psf"},
                                              {"photoCalib", "PhotoCalib"},
                                              {"visitInfo", "VisitInfo"},
                                              {"filter", "FilterLabel"},
                                              {"detector", "Detector"},
                                              {"bbox", "Box2I"},
                                              {"metadata", "PropertyList"}};
  };
  // Rubin's `Exposure` is the parent class of ExposureF/I/U; ours holds float pixels, as ExposureF.
  for (const char* name : {"ExposureF", "Exposure"})
    registry.add_storage_class(
        storage_class<Exposure>(name, "majordome::image::Exposure", exposure_components("ImageF"), {"bbox"}));
  registry.add_storage_class(
      storage_class<ExposureI>("ExposureI", "majordome::image::ExposureI", exposure_components("ImageI"), {"bbox"}));
  registry.add_storage_class(storage_class<BackgroundList>("Background", "majordome::image::BackgroundList"));
  registry.add_storage_class(storage_class<Image<float>>("ImageF", "majordome::image::Image<float>", {}, {"bbox"}));
  registry.add_storage_class(storage_class<Image<double>>("ImageD", "majordome::image::Image<double>", {}, {"bbox"}));
  registry.add_storage_class(storage_class<Image<std::int32_t>>("ImageI", "majordome::image::Image<int32_t>", {}, {"bbox"}));
  registry.add_storage_class(storage_class<Image<std::uint16_t>>("ImageU", "majordome::image::Image<uint16_t>", {}, {"bbox"}));
  registry.add_storage_class(storage_class<Mask>("MaskX", "majordome::image::Mask", {}, {"bbox"}));
  for (const char* name : {"SourceCatalog", "SimpleCatalog", "ArrowAstropy", "DataFrame", "ArrowTable", "AstropyTable"})
    registry.add_storage_class(storage_class<Catalog>(name, "majordome::image::Catalog",
                                                      {{"columns", "StringList"}, {"rowcount", "Integer"}}, {"columns"}));
  registry.add_storage_class(storage_class<std::shared_ptr<const Wcs>>("Wcs", "std::shared_ptr<const majordome::image::Wcs>"));
  registry.add_storage_class(storage_class<std::shared_ptr<const Psf>>("Psf", "std::shared_ptr<const majordome::image::Psf>"));
  registry.add_storage_class(storage_class<PhotoCalib>("PhotoCalib", "majordome::image::PhotoCalib"));
  registry.add_storage_class(storage_class<VisitInfo>("VisitInfo", "majordome::image::VisitInfo"));
  registry.add_storage_class(storage_class<FilterLabel>("FilterLabel", "majordome::image::FilterLabel"));
  registry.add_storage_class(storage_class<DetectorInfo>("Detector", "majordome::image::DetectorInfo"));
  registry.add_storage_class(storage_class<Box2I>("Box2I", "majordome::image::Box2I"));
  registry.add_storage_class(storage_class<Header>("PropertyList", "majordome::image::Header"));

  registry.add_formatter(std::make_shared<ExposureFormatter>(), {"ExposureF", "Exposure", "ExposureI"});
  registry.add_formatter(std::make_shared<BackgroundFormatter>(), {"Background"});
  registry.add_formatter(std::make_shared<ImageFormatter>(), {"ImageF", "ImageD", "ImageI", "ImageU", "MaskX"});
  registry.add_formatter(std::make_shared<CatalogFormatter>(),
                         {"SourceCatalog", "SimpleCatalog", "ArrowAstropy", "DataFrame", "ArrowTable", "AstropyTable"});
  registry.add_formatter(std::make_shared<ComponentFormatter>(),
                         {"Wcs", "Psf", "PhotoCalib", "VisitInfo", "FilterLabel", "Detector", "Box2I", "PropertyList"});
  registry.add_alias("lsst.obs.base.formatters.fitsExposure.FitsExposureFormatter", "majordome.image.ExposureFormatter");
  registry.add_alias("lsst.obs.base.formatters.fitsGeneric.FitsGenericFormatter", "majordome.image.CatalogFormatter");
}

}  // namespace majordome::image
