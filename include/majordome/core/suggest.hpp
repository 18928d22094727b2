// "Did you mean …?": the nearest of some known names to a mistyped one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace majordome {

enum class CaseMatters { kYes, kNo };

// Levenshtein distance (insertions, deletions and substitutions of one character each).
std::size_t edit_distance(std::string_view a, std::string_view b, CaseMatters case_matters = CaseMatters::kYes);

// The candidate nearest to `name` if it is at most `max_distance` edits away, also counting a
// candidate that starts with `name` (a prefix typed) as near; "" when none is. Ties go to the
// first candidate.
std::string closest(std::string_view name, const std::vector<std::string>& candidates, std::size_t max_distance = 3,
                    CaseMatters case_matters = CaseMatters::kYes);

}  // namespace majordome
