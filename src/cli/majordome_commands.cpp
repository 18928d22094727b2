// majordome's own commands (beyond Rubin's butler and pipetask).
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "majordome/image/box.hpp"
#include "majordome/image/describe.hpp"
#include "majordome/image/wcs.hpp"

namespace majordome::cli {

void add_majordome_commands(CLI::App& app) {
  auto* version = app.add_subcommand("version", "Print majordome's version.");
  on_run(version, [] { std::cout << "majordome " << MAJORDOME_VERSION << "\n"; });

  {
    auto* cmd = app.add_subcommand("image-info", "Print a FITS file's structure: HDUs, sizes, key header values, WCS.");
    auto file = std::make_shared<std::string>();
    cmd->add_option("FILE", *file)->required();
    on_run(cmd, [=] { std::cout << image::describe_fits(*file); });
  }
  {
    auto* cmd = app.add_subcommand("pix2sky", "Sky coordinates (degrees) of a pixel (0-based, as astropy origin=0).");
    auto file = std::make_shared<std::string>();
    auto x = std::make_shared<double>(), y = std::make_shared<double>();
    auto hdu = std::make_shared<int>(-1);
    cmd->add_option("FILE", *file)->required();
    cmd->add_option("X", *x)->required();
    cmd->add_option("Y", *y)->required();
    cmd->add_option("--hdu", *hdu, "HDU holding the WCS (0-based; default: the first with one)");
    on_run(cmd, [=] {
      image::Point2D p{*x, *y};
      auto sky = image::pixel_to_sky(*file, std::span<const image::Point2D>(&p, 1),
                                     *hdu >= 0 ? std::optional<int>(*hdu) : std::nullopt);
      std::cout << fmt::format("{:.10f} {:.10f}\n", sky.at(0).ra_deg, sky.at(0).dec_deg);
    });
  }
  {
    auto* cmd = app.add_subcommand("sky2pix", "Pixel (0-based) of sky coordinates in degrees.");
    auto file = std::make_shared<std::string>();
    auto ra = std::make_shared<double>(), dec = std::make_shared<double>();
    auto hdu = std::make_shared<int>(-1);
    cmd->add_option("FILE", *file)->required();
    cmd->add_option("RA", *ra)->required();
    cmd->add_option("DEC", *dec)->required();
    cmd->add_option("--hdu", *hdu, "HDU holding the WCS (0-based; default: the first with one)");
    on_run(cmd, [=] {
      image::SkyCoord s{*ra, *dec};
      auto pix = image::sky_to_pixel(*file, std::span<const image::SkyCoord>(&s, 1),
                                     *hdu >= 0 ? std::optional<int>(*hdu) : std::nullopt);
      std::cout << fmt::format("{:.6f} {:.6f}\n", pix.at(0).x, pix.at(0).y);
    });
  }
}

}  // namespace majordome::cli
