// SkyMap: the tracts and patches of a SkyMapConfig, with lsst.skymap's geometry.
//
// Each tract has a tangent-plane (config projection) WCS centred on the tract centre and
// a pixel grid [0, width) × [0, height) that is an exact multiple of the patch inner
// dimensions; patch (x, y) has the inner box [x·iw, (x+1)·iw) × [y·ih, (y+1)·ih) and the
// outer box grown by the patch border (clipped to the tract by the legacy builder, not by
// the cells builder). Patch id = x + nx·y. As in Rubin's registry:
//
//   * tract region = the polygon of the sky positions of the tract bbox corners
//     (pixel edges, ±0.5) through the tract WCS;
//   * patch region = the same for the patch's outer bbox.
//
// The arithmetic follows lsst.skymap (ExplicitTractInfo, Legacy/CellTractBuilder, geom's
// Box2I(Box2D) rounding) so that regions match Rubin's exports vertex by vertex (see
// tests/unit/skymap and docs/skymap.md for the measured agreement). WCS evaluation is
// wcslib's (image::Wcs). Thread-safe for concurrent const use.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "majordome/image/box.hpp"
#include "majordome/image/wcs.hpp"
#include "majordome/skymap/skymap_config.hpp"
#include "majordome/sphere/convex_polygon.hpp"
#include "majordome/sphere/lon_lat.hpp"

namespace majordome::skymap {

struct PatchInfo {
  int x = 0;                 // cell_x in the registry
  int y = 0;                 // cell_y
  std::int64_t id = 0;       // x + nx·y
  image::Box2I inner_bbox;   // tract pixels
  image::Box2I outer_bbox;
};

class TractInfo {
 public:
  TractInfo(int id, sphere::LonLat center, image::Wcs wcs, image::Extent2I dimensions, int nx, int ny,
            const SkyMapConfig& config);

  int id() const { return id_; }
  const sphere::LonLat& center() const { return center_; }
  // The final tract WCS (pixel (0, 0) is the first pixel of the tract grid).
  const image::Wcs& wcs() const { return wcs_; }
  image::Box2I bbox() const { return image::Box2I({0, 0}, dims_); }
  int num_patches_x() const { return nx_; }
  int num_patches_y() const { return ny_; }
  std::int64_t num_patches() const { return static_cast<std::int64_t>(nx_) * ny_; }

  // REQUIRES 0 ≤ x < nx, 0 ≤ y < ny (InvalidArgumentError otherwise).
  PatchInfo patch(int x, int y) const;
  PatchInfo patch(std::int64_t id) const;

  // The registry regions (see the file comment).
  sphere::ConvexPolygon outer_polygon() const;
  sphere::ConvexPolygon patch_polygon(const PatchInfo& patch) const;
  // The polygon of any pixel box of this tract (its pixel-edge corners).
  sphere::ConvexPolygon box_polygon(const image::Box2I& box) const;
  // The same for many boxes with one WCS evaluation (what registration uses).
  std::vector<sphere::ConvexPolygon> box_polygons(std::span<const image::Box2I> boxes) const;
  // Every patch, in id order.
  std::vector<PatchInfo> patches() const;

 private:
  int id_;
  sphere::LonLat center_;
  image::Wcs wcs_;
  image::Extent2I dims_;
  int nx_, ny_;
  std::array<int, 2> inner_;
  int border_;
  bool clip_outer_;
};

class SkyMap {
 public:
  // Validates the config (InvalidConfigError).
  explicit SkyMap(SkyMapConfig config);

  const SkyMapConfig& config() const { return config_; }
  // Number of tracts: tract ids are 0 .. size()-1 (the registry's tract_max is size()).
  int size() const { return num_tracts_; }
  // Builds one tract (its WCS and patch grid); InvalidArgumentError for a bad id.
  TractInfo tract(int id) const;

  // For rings skymaps: tracts per ring, south to north (the caps excluded).
  const std::vector<int>& ring_sizes() const { return ring_sizes_; }

  struct PatchCounts {
    int nx_max = 0;           // the registry's patch_nx_max
    int ny_max = 0;           // patch_ny_max
    std::int64_t total = 0;   // patches over all tracts
  };
  // Builds every tract (hsc_rings_v1: ~2 s).
  PatchCounts patch_counts() const;
  // {nx_max, ny_max} of patch_counts().
  std::pair<int, int> max_patches() const;

 private:
  SkyMapConfig config_;
  int num_tracts_ = 0;
  double ring_size_rad_ = 0;
  std::vector<int> ring_sizes_;
};

}  // namespace majordome::skymap
