// Query benchmark (issue 3): a synthetic LSSTCam-like survey, then the queries users run.
//
//   bench_query sqlite DIR VISITS [VISITS2 …]     SQLite repositories under DIR
//   bench_query postgres URL VISITS [VISITS2 …]   fresh schemas in that database (dropped after,
//                                                 unless --keep is given to look at plans)
//   --reuse (SQLite): query the repository an earlier run left in DIR instead of building it
//   --schema=NAME (PostgreSQL): query the schema an earlier run kept (--keep) instead of
//                 building one; one size only, that of the kept schema
//   BENCH_QUERY_SAMPLES=1 in the environment prints every sample's time
//
// For each size: VISITS one-to-one exposures/visits of 189 detectors on random pointings over
// a 60°×30° footprint (3.5°-wide focal plane, 14×14 detector grid), 30 visits a night, with
// visit and visit_detector_region regions; `raw` datasets {instrument, exposure, detector} in
// three RUNs chained as BenchCam/defaults (a third of the exposures each, and a re-run of some
// of them in the first run so find-first has a choice); a `bias` calibration certified for
// 10 validity ranges; a skymap of 2°×2° tracts with 10×10 patches over part of the footprint.
// Then, 20 times each with random parameters: by day_obs+seq_num, by band and a sky circle,
// by tract/patch overlap, find-first over the 3-collection chain, a calibration lookup by the
// exposure's time. Several sizes show whether a query's time grows with the repository.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <random>

#include <fmt/format.h>

#include "majordome/query/cursor.hpp"
#include "majordome/query/query.hpp"
#include "majordome/registry/registry.hpp"
#include "majordome/sphere/region_parsing.hpp"

using namespace majordome;
using namespace majordome::registry;
using dimensions::DimensionRecord;
using dimensions::FieldValue;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kDetectors = 189;
constexpr int kGrid = 14;                  // detectors per focal-plane side (14² ≥ 189)
constexpr double kFieldDeg = 3.5;          // focal-plane width on the sky
constexpr int kVisitsPerNight = 30;
constexpr std::int64_t kNight0 = 20260101;
const std::vector<std::string> kBands{"u", "g", "r", "i", "z", "y"};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Percentiles {
  double p50_ms, p95_ms;
};
Percentiles percentiles(std::vector<double> s) {
  std::sort(s.begin(), s.end());
  auto at = [&](double q) { return 1e3 * s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1))]; };
  return {at(0.50), at(0.95)};
}

DimensionRecord make(const dimensions::Universe& u, const std::string& element,
                     const std::map<std::string, FieldValue>& values) {
  const auto& e = u.get(element);
  std::vector<FieldValue> v(e.record_fields().size(), std::monostate{});
  for (const auto& [k, x] : values) v.at(*e.field_index(k)) = x;
  return DimensionRecord(e, std::move(v));
}

// A lon/lat rectangle of the sky as a polygon (small enough that straight edges are fine).
dimensions::Bytes rectangle(double ra, double dec, double half_width, double half_height) {
  double c = std::cos(dec * M_PI / 180.0);
  std::vector<double> coords{ra - half_width / c, dec - half_height, ra + half_width / c, dec - half_height,
                             ra + half_width / c, dec + half_height, ra - half_width / c, dec + half_height};
  return {sphere::polygon_from_degrees(coords).encode()};
}

std::int64_t night_of(std::int64_t visit) {
  // 30 visits a night from 2026-01-01, as YYYYMMDD (months of 28 days keep it simple).
  std::int64_t n = visit / kVisitsPerNight;
  return kNight0 + (n / 28) * 100 + n % 28;
}

std::int64_t exposure_id(std::int64_t visit) { return night_of(visit) * 100000 + visit % kVisitsPerNight + 1; }

TaiTime exposure_start(std::int64_t visit) {
  return TaiTime(TaiTime::from_tai_iso("2026-01-01T00:00:00").ns() + visit * 40'000'000'000LL);
}

void build(Registry& reg, std::int64_t visits, std::mt19937_64& rng) {
  const auto& u = reg.universe();
  auto t0 = Clock::now();
  reg.insert_records("instrument", {make(u, "instrument", {{"name", std::string("BenchCam")}, {"visit_max", std::int64_t{1} << 40},
                                                           {"exposure_max", std::int64_t{1} << 40}, {"detector_max", std::int64_t{kDetectors}},
                                                           {"class_name", std::string("bench")}})});
  std::vector<DimensionRecord> filters, detectors;
  for (const auto& b : kBands)
    filters.push_back(make(u, "physical_filter", {{"instrument", std::string("BenchCam")}, {"name", b + "_1"}, {"band", b}}));
  reg.insert_records("physical_filter", filters);
  for (int d = 0; d < kDetectors; ++d)
    detectors.push_back(make(u, "detector", {{"instrument", std::string("BenchCam")}, {"id", std::int64_t{d}},
                                             {"full_name", fmt::format("R{:02d}_S{:02d}", d / 9, d % 9)},
                                             {"purpose", std::string("SCIENCE")}}));
  reg.insert_records("detector", detectors);
  reg.insert_records("visit_system", {make(u, "visit_system", {{"instrument", std::string("BenchCam")}, {"id", std::int64_t{0}},
                                                               {"name", std::string("one-to-one")}})});

  std::uniform_real_distribution<double> ra_dist(0.0, 60.0), dec_dist(-40.0, -10.0);
  std::vector<DimensionRecord> days, groups, exposures, visit_records, definitions, memberships, regions;
  std::int64_t last_night = -1;
  for (std::int64_t v = 0; v < visits; ++v) {
    std::int64_t night = night_of(v), id = exposure_id(v);
    if (night != last_night) {
      days.push_back(make(u, "day_obs", {{"instrument", std::string("BenchCam")}, {"id", night}}));
      last_night = night;
    }
    std::string band = kBands[static_cast<std::size_t>(v / 5) % kBands.size()];
    std::string group = fmt::format("g{}", id);
    double ra = ra_dist(rng), dec = dec_dist(rng);
    Timespan span(exposure_start(v).ns(), exposure_start(v).ns() + 30'000'000'000LL);
    groups.push_back(make(u, "group", {{"instrument", std::string("BenchCam")}, {"name", group}}));
    std::map<std::string, FieldValue> common{{"instrument", std::string("BenchCam")}, {"id", id},
                                             {"physical_filter", band + "_1"}, {"day_obs", night},
                                             {"seq_num", v % kVisitsPerNight + 1}, {"exposure_time", 30.0},
                                             {"timespan", span}};
    auto e = common;
    e["obs_id"] = fmt::format("BC_O_{}_{:06d}", night, v % kVisitsPerNight + 1);
    e["group"] = group;
    e["observation_type"] = std::string("science");
    exposures.push_back(make(u, "exposure", e));
    auto vr = common;
    vr["name"] = fmt::format("BC_O_{}_{:06d}", night, v % kVisitsPerNight + 1);
    vr["region"] = rectangle(ra, dec, kFieldDeg / 2, kFieldDeg / 2);
    visit_records.push_back(make(u, "visit", vr));
    definitions.push_back(make(u, "visit_definition", {{"instrument", std::string("BenchCam")}, {"exposure", id}, {"visit", id}}));
    memberships.push_back(make(u, "visit_system_membership",
                               {{"instrument", std::string("BenchCam")}, {"visit", id}, {"visit_system", std::int64_t{0}}}));
    double cell = kFieldDeg / kGrid;
    for (int d = 0; d < kDetectors; ++d) {
      double dx = (d % kGrid - kGrid / 2 + 0.5) * cell, dy = (d / kGrid - kGrid / 2 + 0.5) * cell;
      regions.push_back(make(u, "visit_detector_region", {{"instrument", std::string("BenchCam")}, {"visit", id},
                                                          {"detector", std::int64_t{d}},
                                                          {"region", rectangle(ra + dx / std::cos(dec * M_PI / 180), dec + dy,
                                                                               cell / 2, cell / 2)}}));
    }
  }
  reg.insert_records("day_obs", days);
  reg.insert_records("group", groups);
  reg.insert_records("exposure", exposures);
  reg.insert_records("visit", visit_records);
  reg.insert_records("visit_definition", definitions);
  reg.insert_records("visit_system_membership", memberships);
  reg.insert_records("visit_detector_region", regions);
  std::cout << fmt::format("  dimension records ({} visits, {} visit-detector regions): {:.1f} s\n", visits, regions.size(),
                           seconds_since(t0));

  // A skymap of 2°×2° tracts (10×10 patches) over RA 0–20, Dec −30…−20.
  t0 = Clock::now();
  reg.insert_records("skymap", {make(u, "skymap", {{"name", std::string("bench")}, {"hash", dimensions::Bytes{{1, 2, 3}}},
                                                   {"tract_max", std::int64_t{50}}, {"patch_nx_max", std::int64_t{10}},
                                                   {"patch_ny_max", std::int64_t{10}}})});
  std::vector<DimensionRecord> tracts, patches;
  for (int t = 0; t < 50; ++t) {
    double ra = 1.0 + 2.0 * (t % 10), dec = -29.0 + 2.0 * (t / 10);
    tracts.push_back(make(u, "tract", {{"skymap", std::string("bench")}, {"id", std::int64_t{t}}, {"region", rectangle(ra, dec, 1, 1)}}));
    for (int p = 0; p < 100; ++p)
      patches.push_back(make(u, "patch", {{"skymap", std::string("bench")}, {"tract", std::int64_t{t}}, {"id", std::int64_t{p}},
                                          {"cell_x", std::int64_t{p % 10}}, {"cell_y", std::int64_t{p / 10}},
                                          {"region", rectangle(ra - 0.9 + 0.2 * (p % 10), dec - 0.9 + 0.2 * (p / 10), 0.1, 0.1)}}));
  }
  reg.insert_records("tract", tracts);
  reg.insert_records("patch", patches);

  // raw datasets in three runs, chained; a re-run of every 10th exposure in the first run.
  reg.register_dataset_type({"raw", u.group({"instrument", "exposure", "detector"}), "Exposure", false});
  std::vector<std::string> runs{"BenchCam/raw/a", "BenchCam/raw/b", "BenchCam/raw/c"};
  for (const auto& r : runs) reg.register_collection(r, CollectionType::kRun);
  reg.register_collection("BenchCam/defaults", CollectionType::kChained);
  reg.set_chain("BenchCam/defaults", runs);
  std::vector<std::vector<DataId>> per_run(3);
  std::size_t datasets = 0;
  auto flush = [&](bool all) {
    for (std::size_t r = 0; r < 3; ++r)
      if (per_run[r].size() >= 20'000 || (all && !per_run[r].empty())) {
        reg.insert_datasets("raw", runs[r], per_run[r], IdGenerationMode::kDataIdTypeRun);
        datasets += per_run[r].size();
        per_run[r].clear();
      }
  };
  for (std::int64_t v = 0; v < visits; ++v)
    for (int d = 0; d < kDetectors; ++d) {
      DataId id{{"instrument", std::string("BenchCam")}, {"exposure", exposure_id(v)}, {"detector", std::int64_t{d}}};
      per_run[static_cast<std::size_t>(v % 3)].push_back(id);
      if (v % 10 == 1 && v % 3 != 0) per_run[0].push_back(id);
      flush(false);
    }
  flush(true);
  // bias: 10 validity ranges over the survey, one dataset per detector each.
  reg.register_dataset_type({"bias", u.group({"instrument", "detector"}), "ExposureF", true});
  reg.register_collection("BenchCam/calib", CollectionType::kCalibration);
  std::int64_t begin = exposure_start(0).ns(), end = exposure_start(visits).ns();
  for (int k = 0; k < 10; ++k) {
    std::string run = fmt::format("BenchCam/calib/bias{}", k);
    reg.register_collection(run, CollectionType::kRun);
    std::vector<DataId> ids;
    for (int d = 0; d < kDetectors; ++d) ids.push_back({{"instrument", std::string("BenchCam")}, {"detector", std::int64_t{d}}});
    auto refs = reg.insert_datasets("bias", run, ids, IdGenerationMode::kUnique);
    std::int64_t b = k == 0 ? Timespan::kUnboundedBegin : begin + (end - begin) / 10 * k;
    std::int64_t e = k == 9 ? Timespan::kUnboundedEnd : begin + (end - begin) / 10 * (k + 1);
    reg.certify("BenchCam/calib", refs, Timespan(b, e));
  }
  std::cout << fmt::format("  skymap (50 tracts, 5,000 patches), {} raw datasets in 3 runs, 1,890 biases: {:.1f} s\n", datasets,
                           seconds_since(t0));
}

// CPU time of this process: with SQLite, the whole work of a query whatever else the
// machine runs (wall time also counts waiting for a core).
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

template <class F>
void measure(const std::string& label, int repetitions, F&& query) {
  std::vector<double> samples, cpu;
  std::size_t rows = 0;
  for (int i = 0; i < repetitions; ++i) {
    auto t = Clock::now();
    double c = cpu_seconds();
    std::size_t n = query(i);
    rows += n;
    cpu.push_back(cpu_seconds() - c);
    samples.push_back(seconds_since(t));
    if (std::getenv("BENCH_QUERY_SAMPLES")) std::cerr << fmt::format("    sample {}: {:.2f} ms, {} rows\n", i, 1e3 * samples.back(), n);
  }
  auto p = percentiles(samples);
  auto pc = percentiles(cpu);
  std::cout << fmt::format("  {:<58} p50 {:8.2f} ms  p95 {:8.2f} ms  (cpu p50 {:.2f} p95 {:.2f} ms; {:.0f} rows on average)\n",
                           label, p.p50_ms, p.p95_ms, pc.p50_ms, pc.p95_ms, static_cast<double>(rows) / repetitions);
}

void run_queries(Registry& reg, std::int64_t visits, std::mt19937_64& rng) {
  auto random_visit = [&] { return static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(visits)); };
  measure("raw by exposure.day_obs + exposure.seq_num", 20, [&](int) {
    std::int64_t v = random_visit();
    query::QuerySpec s;
    s.datasets = query::DatasetSearch{"raw", {"BenchCam/defaults"}, false};
    s.where = fmt::format("instrument='BenchCam' AND exposure.day_obs={} AND exposure.seq_num={}", night_of(v),
                          v % kVisitsPerNight + 1);
    return query::run_query(reg, s).rows.size();
  });
  measure("visit,detector by band and CIRCLE(ra, dec, 0.1)", 20, [&](int) {
    std::uniform_real_distribution<double> ra(5.0, 55.0), dec(-35.0, -15.0);
    query::QuerySpec s;
    s.dimensions = {"visit", "detector"};
    s.where = fmt::format("instrument='BenchCam' AND band='r' AND visit_detector_region.region OVERLAPS CIRCLE({:.4f}, {:.4f}, 0.1)",
                          ra(rng), dec(rng));
    return query::run_query(reg, s).rows.size();
  });
  measure("visit,detector overlapping one patch (skymap, tract, patch)", 20, [&](int) {
    query::QuerySpec s;
    s.dimensions = {"visit", "detector"};
    s.data_id = {{"instrument", std::string("BenchCam")}, {"skymap", std::string("bench")},
                 {"tract", static_cast<std::int64_t>(rng() % 50)}, {"patch", static_cast<std::int64_t>(rng() % 100)}};
    return query::run_query(reg, s).rows.size();
  });
  measure("raw find-first over a 3-run chain, one exposure", 20, [&](int) {
    query::QuerySpec s;
    s.datasets = query::DatasetSearch{"raw", {"BenchCam/defaults"}, true};
    s.data_id = {{"instrument", std::string("BenchCam")}, {"exposure", exposure_id(random_visit())}};
    return query::run_query(reg, s).rows.size();
  });
  measure("raw find-first over a 3-run chain, one night", 20, [&](int) {
    query::QuerySpec s;
    s.datasets = query::DatasetSearch{"raw", {"BenchCam/defaults"}, true};
    s.where = fmt::format("instrument='BenchCam' AND exposure.day_obs={}", night_of(random_visit()));
    return query::run_query(reg, s).rows.size();
  });
  measure("bias for one exposure (calibration lookup by time)", 20, [&](int) {
    query::QuerySpec s;
    s.datasets = query::DatasetSearch{"bias", {"BenchCam/calib"}, true};
    s.dimensions = {"exposure", "detector"};
    s.data_id = {{"instrument", std::string("BenchCam")}, {"exposure", exposure_id(random_visit())}};
    return query::run_query(reg, s).rows.size();
  });
  // Streaming: the first rows of every raw (1.6 M at 7,500 visits) through a Cursor, which
  // must not read the whole result first.
  for (std::int64_t wanted : {std::int64_t{1}, std::int64_t{1000}}) {
    for (const char* collection : {"BenchCam/raw/a", "BenchCam/defaults"}) {
      measure(fmt::format("first {} row{} of all raws in {} (Cursor)", wanted, wanted == 1 ? "" : "s", collection), 5, [&](int) {
        query::QuerySpec s;
        s.datasets = query::DatasetSearch{"raw", {collection}, false};
        query::Cursor cursor(reg, s);
        std::size_t n = 0;
        while (static_cast<std::int64_t>(n) < wanted && cursor.next()) ++n;
        return n;
      });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: bench_query sqlite DIR VISITS [VISITS …] [--reuse] | postgres URL VISITS [VISITS …] [--keep | --schema=NAME]\n";
    return 1;
  }
  std::string backend = argv[1];
  bool keep = false, reuse = false;
  std::string kept_schema;
  std::vector<std::int64_t> sizes;
  for (int a = 3; a < argc; ++a) {
    std::string arg = argv[a];
    if (arg == "--keep") keep = true;
    else if (arg == "--reuse") reuse = true;
    else if (arg.starts_with("--schema=")) kept_schema = arg.substr(9);
    else sizes.push_back(std::stoll(arg));
  }
  // The random draws build() made: a reused repository is queried with the same parameters
  // as when it was built.
  auto replay_build_draws = [](std::int64_t visits, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> ra_dist(0.0, 60.0), dec_dist(-40.0, -10.0);
    for (std::int64_t v = 0; v < visits; ++v) {
      ra_dist(rng);
      dec_dist(rng);
    }
  };
  for (auto visits : sizes) {
    std::unique_ptr<Database> db;
    PostgresOptions pg;
    if (backend == "sqlite") {
      std::filesystem::path dir = std::filesystem::path(argv[2]) / fmt::format("v{}", visits);
      if (reuse && std::filesystem::exists(dir / "gen3.sqlite3")) {
        // A repository a previous run built (same sizes, same seed): query it again.
        std::cout << fmt::format("{}: {} visits x {} detectors (reused {})\n", backend, visits, kDetectors, dir.string());
        auto reg = Registry::open(open_sqlite((dir / "gen3.sqlite3").string(), false));
        std::mt19937_64 rng(42);
        replay_build_draws(visits, rng);
        run_queries(*reg, visits, rng);
        continue;
      }
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      db = open_sqlite((dir / "gen3.sqlite3").string(), true);
    } else {
      pg.url = argv[2];
      if (!kept_schema.empty()) {
        pg.namespace_ = kept_schema;
        std::cout << fmt::format("{}: {} visits x {} detectors (reused schema {})\n", backend, visits, kDetectors, kept_schema);
        auto t0 = Clock::now();
        auto reg = Registry::open(open_postgres(pg, false));  // upgrades an older schema version
        std::cout << fmt::format("  open (with any schema upgrade): {:.1f} s\n", seconds_since(t0));
        std::mt19937_64 rng(42);
        replay_build_draws(visits, rng);
        run_queries(*reg, visits, rng);
        continue;
      }
      pg.namespace_ = fmt::format("benchq_{}", std::random_device{}());
      db = open_postgres(pg, true);
    }
    std::cout << fmt::format("{}: {} visits x {} detectors\n", backend, visits, kDetectors);
    auto reg = Registry::create(std::move(db), dimensions::Universe::make_default());
    std::mt19937_64 rng(42);
    build(*reg, visits, rng);
    run_queries(*reg, visits, rng);
    if (backend == "postgres" && keep) {
      std::cout << fmt::format("  kept schema {}\n", pg.namespace_);
    } else if (backend == "postgres") {
      reg.reset();
      auto admin = open_postgres({pg.url, "", "", ""}, false);
      admin->execute_script("DROP SCHEMA \"" + pg.namespace_ + "\" CASCADE");
    }
  }
  return 0;
}
