// Registry benchmark (issue 2): insert N datasets of one dataset type into one RUN, then
// look one dataset up by data ID, and select ~10,000 with a where-clause.
//
//   bench_registry sqlite DIR [N]          SQLite file DIR/gen3.sqlite3 (created fresh)
//   bench_registry postgres URL [N]        a fresh schema in that database (dropped after)
//
// Prints one line per measurement: what, rows, seconds, rows/s or latency percentiles.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>

#include <fmt/format.h>

#include "majordome/query/query.hpp"
#include "majordome/registry/registry.hpp"

using namespace majordome;
using namespace majordome::registry;
using dimensions::DimensionRecord;
using dimensions::FieldValue;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Percentiles {
  double p50_ms, p95_ms;
};

Percentiles percentiles(std::vector<double> samples_s) {
  std::sort(samples_s.begin(), samples_s.end());
  auto at = [&](double q) { return 1e3 * samples_s[static_cast<std::size_t>(q * static_cast<double>(samples_s.size() - 1))]; };
  return {at(0.50), at(0.95)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bench_registry sqlite DIR [N] | postgres URL [N]\n";
    return 1;
  }
  std::string backend = argv[1];
  std::int64_t n = argc > 3 ? std::stoll(argv[3]) : 1'000'000;
  constexpr std::int64_t kDetectors = 189;  // an LSSTCam-like focal plane
  std::int64_t exposures = (n + kDetectors - 1) / kDetectors;

  std::unique_ptr<Database> db;
  PostgresOptions pg;
  if (backend == "sqlite") {
    std::filesystem::path dir = argv[2];
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = open_sqlite((dir / "gen3.sqlite3").string(), true);
  } else {
    pg.url = argv[2];
    pg.namespace_ = fmt::format("bench_{}", std::random_device{}());
    db = open_postgres(pg, true);
  }
  auto reg = Registry::create(std::move(db), dimensions::Universe::make_default());
  const auto& u = reg->universe();

  auto t0 = Clock::now();
  reg->insert_records("instrument", {DimensionRecord(u.get("instrument"), {std::string("BenchCam"), std::int64_t{1} << 40,
                                                                           std::int64_t{0}, std::int64_t{1} << 40,
                                                                           kDetectors, std::string("bench")})});
  reg->insert_records("physical_filter", {DimensionRecord(u.get("physical_filter"), {std::string("BenchCam"),
                                                                                     std::string("r_57"), std::string("r")})});
  reg->insert_records("day_obs", {DimensionRecord(u.get("day_obs"), {std::string("BenchCam"), std::int64_t{20260101}, std::monostate{}})});
  std::vector<DimensionRecord> detectors, groups, exps;
  for (std::int64_t d = 0; d < kDetectors; ++d)
    detectors.emplace_back(u.get("detector"), std::vector<FieldValue>{std::string("BenchCam"), d, fmt::format("D{:03d}", d),
                                                                      std::monostate{}, std::monostate{}, std::string("SCIENCE")});
  reg->insert_records("detector", detectors);
  for (std::int64_t e = 0; e < exposures; ++e) {
    std::string g = fmt::format("g{}", e);
    groups.emplace_back(u.get("group"), std::vector<FieldValue>{std::string("BenchCam"), g});
    const auto& el = u.get("exposure");
    std::vector<FieldValue> v(el.record_fields().size(), std::monostate{});
    v[*el.field_index("instrument")] = std::string("BenchCam");
    v[*el.field_index("id")] = 2026010100000 + e;
    v[*el.field_index("physical_filter")] = std::string("r_57");
    v[*el.field_index("group")] = g;
    v[*el.field_index("day_obs")] = std::int64_t{20260101};
    v[*el.field_index("obs_id")] = fmt::format("BC_{}", e);
    exps.emplace_back(el, std::move(v));
  }
  reg->insert_records("group", groups);
  reg->insert_records("exposure", exps);
  std::cout << fmt::format("{:<8} dimension records: {} exposures x {} detectors in {:.2f} s\n", backend, exposures,
                           kDetectors, seconds_since(t0));

  reg->register_dataset_type({"raw", u.group({"instrument", "exposure", "detector"}), "Exposure", false});
  reg->register_collection("BenchCam/raw/all", CollectionType::kRun);

  // Insert in transactions of 10,000 datasets, as an ingest would batch them.
  t0 = Clock::now();
  constexpr std::int64_t kBatch = 10'000;
  std::vector<DataId> batch;
  for (std::int64_t i = 0; i < n; i += kBatch) {
    batch.clear();
    for (std::int64_t k = i; k < std::min(n, i + kBatch); ++k)
      batch.push_back({{"instrument", std::string("BenchCam")},
                       {"exposure", 2026010100000 + k / kDetectors},
                       {"detector", k % kDetectors}});
    reg->insert_datasets("raw", "BenchCam/raw/all", batch, IdGenerationMode::kDataIdTypeRun);
  }
  double insert_s = seconds_since(t0);
  std::cout << fmt::format("{:<8} insert {} datasets: {:.1f} s, {:.0f} datasets/s\n", backend, n, insert_s,
                           static_cast<double>(n) / insert_s);

  // One dataset by data ID, 1,000 random lookups.
  std::mt19937_64 rng(42);
  std::vector<double> samples;
  for (int i = 0; i < 1000; ++i) {
    std::int64_t k = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
    DataId id{{"instrument", std::string("BenchCam")}, {"exposure", 2026010100000 + k / kDetectors}, {"detector", k % kDetectors}};
    auto t = Clock::now();
    auto ref = reg->find_dataset("raw", id, {"BenchCam/raw/all"});
    samples.push_back(seconds_since(t));
    if (!ref) {
      std::cerr << "lookup failed\n";
      return 2;
    }
  }
  auto p = percentiles(samples);
  std::cout << fmt::format("{:<8} find 1 dataset by data ID: p50 {:.3f} ms, p95 {:.3f} ms (1000 lookups)\n", backend, p.p50_ms, p.p95_ms);

  // ~10,000 datasets selected by a where-clause on exposures, 20 repetitions.
  samples.clear();
  std::size_t rows = 0;
  std::int64_t span = (10'000 + kDetectors - 1) / kDetectors;
  for (int i = 0; i < 20; ++i) {
    std::int64_t first = 2026010100000 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(std::max<std::int64_t>(1, exposures - span)));
    query::QuerySpec spec;
    spec.datasets = query::DatasetSearch{"raw", {"BenchCam/raw/all"}, false};
    spec.where = fmt::format("exposure >= {} AND exposure < {} AND instrument = 'BenchCam'", first, first + span);
    auto t = Clock::now();
    rows = query::run_query(*reg, spec).rows.size();
    samples.push_back(seconds_since(t));
  }
  p = percentiles(samples);
  std::cout << fmt::format("{:<8} query {} datasets by where-clause: p50 {:.1f} ms, p95 {:.1f} ms, {:.0f} rows/s (20 queries)\n",
                           backend, rows, p.p50_ms, p.p95_ms, static_cast<double>(rows) / (p.p50_ms / 1e3));
  if (backend == "postgres") {
    reg.reset();
    auto admin = open_postgres({pg.url, "", "", ""}, false);
    admin->execute_script("DROP SCHEMA \"" + pg.namespace_ + "\" CASCADE");
  }
  return 0;
}
