#include "query_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "majordome/core/error.hpp"

namespace majordome::query::detail {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string balanced_join(std::span<const std::string> terms, std::string_view op) {
  constexpr std::size_t kFlat = 64;
  if (terms.size() <= kFlat) return fmt::format("{}", fmt::join(terms, op));
  const std::size_t middle = (terms.size() + 1) / 2;
  return "(" + balanced_join(terms.first(middle), op) + ")" + std::string(op) + "(" +
         balanced_join(terms.subspan(middle), op) + ")";
}

registry::SqlValue bind_value(const std::string& text) {
  std::int64_t i = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), i);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return i;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return d;
  return text;
}

std::string nearest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 4;
  for (const auto& c : candidates) {
    std::vector<std::size_t> row(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (name[i - 1] == c[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[c.size()] < best_distance) {
      best_distance = row[c.size()];
      best = c;
    }
  }
  return best;
}

bool is_null_identifier(const Expr& e) {
  const auto* id = e.as<Identifier>();
  return id && id->parts.size() == 1 && lower(id->parts[0]) == "null";
}

const Expr& strip_parens(const Expr& e) {
  const Expr* x = &e;
  while (const auto* p = x->as<Parens>()) x = p->inner.get();
  return *x;
}

void split_conjuncts(const Expr& e, std::vector<const Expr*>& out) {
  const Expr& x = strip_parens(e);
  if (const auto* b = x.as<BinaryOp>(); b && b->op == BinaryOperator::kAnd) {
    split_conjuncts(*b->lhs, out);
    split_conjuncts(*b->rhs, out);
    return;
  }
  out.push_back(&x);
}

bool is_region_identifier(const Expr& e) {
  const auto* id = strip_parens(e).as<Identifier>();
  return id && id->parts.size() == 2 && lower(id->parts[1]) == "region";
}

bool is_region_literal(const Expr& e) {
  const Expr& x = strip_parens(e);
  return x.as<PointCall>() || x.as<CircleCall>() || x.as<BoxCall>() || x.as<PolygonCall>() || x.as<RegionCall>();
}

bool is_spatial_overlap(const Expr& e) {
  const auto* b = e.as<BinaryOp>();
  return b && b->op == BinaryOperator::kOverlaps &&
         (is_region_identifier(*b->lhs) || is_region_identifier(*b->rhs) || is_region_literal(*b->lhs) ||
          is_region_literal(*b->rhs));
}

const Topology& topology_of(const dimensions::Universe& universe) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Topology>, std::less<>> known;  // by universe text
  std::lock_guard lock(mutex);
  if (auto it = known.find(universe.yaml()); it != known.end()) return *it->second;
  auto t = std::make_unique<Topology>();
  try {
    const YAML::Node root = YAML::Load(universe.yaml());
    auto read = [&](const char* kind, std::vector<std::vector<std::string>>& out) {
      for (const auto& family : root["topology"][kind]) {
        std::vector<std::string> members;
        for (const auto& m : family.second) members.push_back(m.as<std::string>());
        out.push_back(std::move(members));
      }
    };
    read("spatial", t->spatial);
    read("temporal", t->temporal);
  } catch (const YAML::Exception& e) {
    throw InvalidConfigError(std::string("dimension universe: unreadable topology: ") + e.what());
  }
  return *known.emplace(universe.yaml(), std::move(t)).first->second;
}

}  // namespace majordome::query::detail
