// Queries through the Butler: typed requests in, streaming results out.
//
//   auto results = butler->query_datasets({.dataset_types = {"raw"}, .collections = {"LSSTCam/raw/all"},
//                                          .where = "exposure.day_obs = 20240101", .limit = 100});
//   while (auto ref = results.next()) use(*ref);
//   if (results.empty()) for (const auto& reason : results.why_empty()) explain(reason);
//
// A request names what a user asks (Rubin's Butler.query_datasets / query_data_ids /
// query_dimension_records / query_collections, spec/butler.md §8); a result reads its rows
// from the registry a page at a time (query::Cursor), so the first rows come before the whole
// result is read and a limit, or a caller that stops asking, stops the reading. Results refer
// to the Butler that made them, which must outlive them, and are used by one thread at a time.
//
// When a result is empty, why_empty() says why as data (query::EmptyReason, one list for all
// the dataset types searched); shells word the reasons for their users.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "majordome/query/cursor.hpp"
#include "majordome/query/query.hpp"
#include "majordome/registry/registry.hpp"

namespace majordome::butler {

class Butler;

// Whether a dataset search keeps only the first dataset of each data ID in collection order.
enum class FindFirst { kNo, kYes };

enum class SortDirection { kAscending, kDescending };

// One ORDER BY item: a dimension ("visit") or a field ("exposure.day_obs", "full_name").
struct OrderBy {
  std::string column;
  SortDirection direction = SortDirection::kAscending;

  // Rubin's command-line form: "-visit" is descending.
  static OrderBy parse(std::string_view text);
  static std::vector<OrderBy> parse(const std::vector<std::string>& texts);
  std::string str() const;  // the form parse() reads
};

// ---- query_datasets

struct DatasetsRequest {
  std::vector<std::string> dataset_types;  // names or globs; empty: every registered type
  std::vector<std::string> collections;    // in search order; globs allowed without find-first; empty: all
  std::string where;                       // docs/query_language.md
  query::Binds binds;
  registry::DataId data_id;  // equality constraints
  FindFirst find_first = FindFirst::kNo;
  std::vector<OrderBy> order_by;  // default: by data ID
  std::int64_t limit = 0;         // over all the types together; 0: no limit
};

// Datasets, one type after another (in the order of DatasetsRequest::dataset_types, a glob's
// matches by name), each type's in the request's order.
class DatasetResults {
 public:
  DatasetResults(DatasetResults&&) noexcept;
  DatasetResults& operator=(DatasetResults&&) noexcept;
  ~DatasetResults();

  // The dataset types searched, in result order.
  const std::vector<registry::DatasetType>& dataset_types() const;
  std::optional<registry::DatasetRef> next();
  // After next() returned nothing: whether the limit cut off more datasets.
  bool more();
  // Reads the rest.
  std::vector<registry::DatasetRef> all();
  // True when the whole result is empty (reads at most one row).
  bool empty();
  // Why the result is empty (reasons carry their dataset type); nothing when it is not.
  std::vector<query::EmptyReason> why_empty();

 private:
  friend class Butler;
  struct Impl;
  explicit DatasetResults(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- query_data_ids

struct DataIdsRequest {
  std::vector<std::string> dimensions;  // of the data IDs; empty: those of the (first) dataset type
  // Only data IDs with a dataset of one of these types (names or globs) in `collections`;
  // with several types the result is the union, without repeats.
  std::vector<std::string> dataset_types;
  std::vector<std::string> collections;  // empty: all
  std::string where;
  query::Binds binds;
  registry::DataId data_id;
  std::vector<OrderBy> order_by;
  std::int64_t limit = 0;  // 0: no limit
  std::int64_t offset = 0;
};

class DataIdResults {
 public:
  DataIdResults(DataIdResults&&) noexcept;
  DataIdResults& operator=(DataIdResults&&) noexcept;
  ~DataIdResults();

  // The dimensions of the data IDs; data_id_keys() gives the columns a table shows.
  const dimensions::DimensionGroup& dimensions() const;
  std::optional<registry::DataId> next();
  bool more();
  std::vector<registry::DataId> all();
  bool empty();
  std::vector<query::EmptyReason> why_empty();

 private:
  friend class Butler;
  struct Impl;
  explicit DataIdResults(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- query_dimension_records

struct DimensionRecordsRequest {
  std::string element;  // "exposure", "detector", "htm7"…
  std::string where;
  query::Binds binds;
  registry::DataId data_id;
  std::string dataset_type;              // only records of data IDs with such a dataset ("": no constraint)
  std::vector<std::string> collections;  // searched for dataset_type; empty: all
  std::vector<OrderBy> order_by;         // default: by key
  std::int64_t limit = 0;
  std::int64_t offset = 0;
};

class DimensionRecordResults {
 public:
  DimensionRecordResults(DimensionRecordResults&&) noexcept;
  DimensionRecordResults& operator=(DimensionRecordResults&&) noexcept;
  ~DimensionRecordResults();

  const dimensions::DimensionElement& element() const;
  std::optional<dimensions::DimensionRecord> next();
  bool more();
  std::vector<dimensions::DimensionRecord> all();
  bool empty();
  std::vector<query::EmptyReason> why_empty();

 private:
  friend class Butler;
  struct Impl;
  explicit DimensionRecordResults(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- query_collections and query_dataset_types

struct CollectionsRequest {
  std::vector<std::string> globs;                 // empty: all
  std::vector<registry::CollectionType> types;    // empty: every type
  // Replace chains by their children, depth first (Rubin's flatten_chains); the chains
  // themselves are kept when include_chains.
  bool flatten_chains = false;
  bool include_chains = true;
};

struct DatasetTypesRequest {
  std::vector<std::string> globs;        // empty: all
  std::vector<std::string> collections;  // only types with datasets in these (globs allowed); empty: no constraint
};

// ---- prune

enum class PruneAction {
  kPurge,        // delete the datasets and their files (they must all be in `purge_run`)
  kUnstore,      // delete their files, keep the datasets
  kDisassociate  // remove them from the TAGGED collections `disassociate_from`
};

struct PruneRequest {
  std::vector<std::string> collections;    // searched; empty with kPurge: purge_run
  std::vector<std::string> dataset_types;  // names or globs; empty: all
  std::string where;
  FindFirst find_first = FindFirst::kYes;  // Rubin's default: not --find-all
  std::set<PruneAction> actions;
  std::string purge_run;
  std::vector<std::string> disassociate_from;
};

}  // namespace majordome::butler
