#include "majordome/core/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace majordome {

std::size_t edit_distance(std::string_view a, std::string_view b, CaseMatters case_matters) {
  auto same = [&](char x, char y) {
    if (case_matters == CaseMatters::kYes) return x == y;
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view name, const std::vector<std::string>& candidates, std::size_t max_distance,
                    CaseMatters case_matters) {
  std::string best;
  // Ranked by distance, a typed prefix counting as 1, then by the plain distance.
  std::pair<std::size_t, std::size_t> best_rank{max_distance + 1, 0};
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c, case_matters);
    std::size_t score = d;
    if (name.size() >= 3 && c.size() > name.size() && edit_distance(name, c.substr(0, name.size()), case_matters) == 0)
      score = std::min<std::size_t>(d, 1);
    if (std::pair(score, d) < best_rank) {
      best_rank = {score, d};
      best = c;
    }
  }
  return best;
}

}  // namespace majordome
