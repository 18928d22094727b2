// Gaussian mixtures: how the simulator draws galaxies convolved with the PSF.
//
// A Sérsic profile and a Moffat PSF are each approximated by a sum of concentric Gaussians
// (the idea of Hogg & Lang 2013, "Replacing standard galaxy profiles with mixtures of
// Gaussians"; the mixtures here are our own non-negative least-squares fits: a fine grid of
// widths, reduced by merging neighbours, then refitted). A Gaussian convolved with a Gaussian is the Gaussian whose
// covariance is the sum, so the galaxy ⊗ PSF image is a sum of elliptical Gaussians evaluated analytically: exact
// convolution (up to the fits' accuracy) at a cost of a few multiplications per pixel.
#pragma once

#include <span>
#include <vector>

#include "majordome/image/image.hpp"

namespace majordome::sim {

// One circular component: `weight` of the total flux, `variance` per axis in units of the
// profile's scale length squared.
struct RadialGaussian {
  double weight = 0.0;
  double variance = 0.0;
};
using RadialMixture = std::vector<RadialGaussian>;

// The Sérsic profile exp(−b_n (r/r_e)^(1/n)) with r_e = 1, truncated at 8 r_e (as SDSS
// truncates its model profiles), as 8 Gaussians (n clamped to [0.5, 6] and rounded to a step
// of 0.05; n = 0.5 is itself one Gaussian, approximated by two). Weights sum to 1, the second
// moment is the truncated profile's, and the enclosed flux matches within 1 % of the total at
// every radius. Fitted on first use of each step (a few ms; thread-safe).
RadialMixture sersic_mixture(double n);

// The circular Moffat profile (1 + r²)^−β (α = 1), β > 2, as 4 Gaussians at β ≥ 3.5 (more for
// heavier wings, until the enclosed flux matches within 0.4 % at every radius): weights sum to
// 1, the second moment ⟨r²⟩ = 1/(β − 2) is the Moffat's (to 10⁻⁴) and the central surface
// brightness within 2 %. Fitted on first use per β (thread-safe).
RadialMixture moffat_mixture(double beta);

// An elliptical Gaussian in pixel units: total flux and covariance (pixels²).
struct Gaussian2D {
  double flux = 0.0;
  double xx = 0.0;
  double xy = 0.0;
  double yy = 0.0;
};

// Replaces components whose covariances differ by less than `tolerance` × their trace
// (Frobenius norm) by one with their total flux and flux-weighted covariance: flux and second
// moments are unchanged, the profile changes by ~tolerance²; drops components without flux.
void merge_similar(std::vector<Gaussian2D>& components, double tolerance);

// Adds Σ_k components[k] centred on (x, y) (local pixel coordinates of `image`) into `image`,
// integrated over each pixel (approximated by adding the pixel's own variance, 1/12 px², to
// every component and sampling at pixel centres). Each component is drawn on the bounding box
// of the ellipse where it falls to `min_surface_brightness` (image units per pixel), so it
// leaves out less than 2π √det(C) × min_surface_brightness of its flux (and components whose
// peak is below that are skipped). Returns the flux added to the image.
// REQUIRES: positive-definite covariances, min_surface_brightness > 0.
double render_gaussians(const image::ImageF& image, double x, double y, std::span<const Gaussian2D> components,
                        double min_surface_brightness);

}  // namespace majordome::sim
