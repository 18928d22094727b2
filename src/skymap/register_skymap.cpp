#include "majordome/skymap/register_skymap.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "majordome/core/error.hpp"

namespace majordome::skymap {

namespace {

using dimensions::Bytes;
using dimensions::FieldValue;

// A record of `element` from field values by name; fields not given are NULL.
registry::DimensionRecord make_record(const dimensions::DimensionElement& element,
                                      const std::map<std::string, FieldValue>& values) {
  std::vector<FieldValue> row;
  for (const auto& f : element.record_fields()) {
    auto it = values.find(f.name);
    row.push_back(it == values.end() ? FieldValue{} : it->second);
  }
  return registry::DimensionRecord(element, std::move(row));
}

Bytes region_bytes(const sphere::ConvexPolygon& polygon) { return Bytes{polygon.encode()}; }

std::string hex(const std::array<std::uint8_t, 20>& h) {
  std::string out;
  for (auto b : h) out += fmt::format("{:02x}", b);
  return out;
}

std::string hex(const Bytes& b) {
  std::string out;
  for (auto x : b.data) out += fmt::format("{:02x}", x);
  return out;
}

// Patches per insert_records call: bounds memory (a patch record is ~300 bytes with its
// region) while keeping statements few.
constexpr std::size_t kPatchBatch = 20000;

}  // namespace

registry::DimensionRecord skymap_record(const registry::Universe& universe, const SkyMap& skymap) {
  const auto [nx, ny] = skymap.max_patches();
  const auto h = skymap.config().sha1();
  return make_record(universe.get("skymap"), {{"name", skymap.config().name},
                                              {"hash", Bytes{{h.begin(), h.end()}}},
                                              {"tract_max", std::int64_t{skymap.size()}},
                                              {"patch_nx_max", std::int64_t{nx}},
                                              {"patch_ny_max", std::int64_t{ny}}});
}

RegisterSkyMapResult register_skymap(registry::Registry& registry, const SkyMap& skymap,
                                     Progress* progress) {
  const auto& universe = registry.universe();
  const auto& name = skymap.config().name;
  RegisterSkyMapResult result;
  result.tracts = skymap.size();
  result.hash = skymap.config().sha1();
  const auto record = skymap_record(universe, skymap);
  result.patch_nx_max = static_cast<int>(std::get<std::int64_t>(record.get("patch_nx_max")));
  result.patch_ny_max = static_cast<int>(std::get<std::int64_t>(record.get("patch_ny_max")));

  auto txn = registry.transaction();
  if (auto existing = registry.find_record("skymap", {{"skymap", name}})) {
    if (existing->values() == record.values()) return result;  // already registered: a no-op
    const auto* old_hash = std::get_if<Bytes>(&existing->get("hash"));
    throw ConflictError(fmt::format(
        "skymap '{}' is already registered with a different definition (hash {}, tract_max {}; this config has "
        "hash {}, tract_max {}); a registered skymap never changes: register this one under a new name",
        name, old_hash ? hex(*old_hash) : std::string("?"), dimensions::to_string(existing->get("tract_max")),
        hex(result.hash), skymap.size()));
  }
  registry.sync_record(record);

  const auto& tract_element = universe.get("tract");
  const auto& patch_element = universe.get("patch");
  std::vector<registry::DimensionRecord> tracts;
  std::vector<registry::DimensionRecord> patches;
  auto flush = [&] {
    if (!tracts.empty()) registry.insert_records("tract", tracts);
    if (!patches.empty()) registry.insert_records("patch", patches);
    tracts.clear();
    patches.clear();
  };
  if (progress) progress->start("registering tracts", static_cast<std::size_t>(skymap.size()));
  for (int id = 0; id < skymap.size(); ++id) {
    if (progress) progress->check_cancelled();
    const TractInfo tract = skymap.tract(id);
    const auto infos = tract.patches();
    std::vector<image::Box2I> boxes{tract.bbox()};
    for (const auto& p : infos) boxes.push_back(p.outer_bbox);
    const auto polygons = tract.box_polygons(boxes);
    tracts.push_back(make_record(tract_element, {{"skymap", name},
                                                 {"id", std::int64_t{id}},
                                                 {"region", region_bytes(polygons[0])}}));
    for (std::size_t k = 0; k < infos.size(); ++k) {
      const PatchInfo& p = infos[k];
      patches.push_back(make_record(patch_element, {{"skymap", name},
                                                    {"tract", std::int64_t{id}},
                                                    {"id", p.id},
                                                    {"cell_x", std::int64_t{p.x}},
                                                    {"cell_y", std::int64_t{p.y}},
                                                    {"region", region_bytes(polygons[k + 1])}}));
    }
    result.patches += tract.num_patches();
    if (patches.size() >= kPatchBatch) flush();
    if (progress) progress->advance();
  }
  flush();
  if (progress) progress->finish();
  txn.commit();
  result.inserted = true;
  return result;
}

}  // namespace majordome::skymap
