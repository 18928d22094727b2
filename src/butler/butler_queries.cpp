// Butler queries (queries.hpp): requests turned into query::QuerySpecs, results streamed
// from query::Cursors, several dataset types searched one after another.
#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/butler/butler.hpp"
#include "majordome/butler/queries.hpp"
#include "majordome/core/error.hpp"

namespace majordome::butler {

namespace {

bool is_glob(const std::string& text) { return text.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> order_texts(const std::vector<OrderBy>& order) {
  std::vector<std::string> out;
  for (const auto& o : order) out.push_back(o.str());
  return out;
}

std::vector<std::string> or_all(const std::vector<std::string>& collections) {
  return collections.empty() ? std::vector<std::string>{"*"} : collections;
}

// The dataset types named or matched by `patterns` (all when empty), in order, each once;
// a name that is not a glob must be registered (NotFoundError naming it).
std::vector<DatasetType> resolve_types(Registry& reg, const std::vector<std::string>& patterns) {
  std::vector<DatasetType> out;
  std::set<std::string> seen;
  auto add = [&](DatasetType t) {
    if (seen.insert(t.name).second) out.push_back(std::move(t));
  };
  if (patterns.empty()) {
    for (auto& t : reg.query_dataset_types({})) add(std::move(t));
    return out;
  }
  for (const auto& p : patterns) {
    if (is_glob(p)) {
      for (auto& t : reg.query_dataset_types({p})) add(std::move(t));
    } else {
      add(reg.get_dataset_type(p));
    }
  }
  return out;
}

// The searches of one result, run one after another: a Cursor per search, created when the
// previous one is exhausted; the searches that found nothing are kept to explain an empty result.
class Searches {
 public:
  Searches(Registry& reg, std::vector<query::QuerySpec> specs, std::int64_t limit)
      : reg_(&reg), specs_(std::move(specs)), limit_(limit) {}

  // The next row of the searches together, at most `limit` of them.
  std::optional<query::ResultRow> next() {
    if (pending_) return std::exchange(pending_, std::nullopt);
    return read();
  }

  // Whether the searches together have no row (reads at most one, kept for next()).
  bool is_empty() {
    if (produced_ == 0 && !pending_) pending_ = read();
    return produced_ == 0;
  }

  // After next() returned nothing: whether rows exist beyond the limit.
  bool more() {
    if (limit_ <= 0 || produced_ < limit_) return false;
    if (more_) return *more_;
    if (pending_) return false;  // the caller has not reached the limit yet
    more_ = false;
    if (cursor_) {
      (void)cursor_->next();  // past the limit: the cursor looks one row ahead
      if (cursor_->more()) return *more_ = true;
      finish_current();
    }
    for (std::size_t i = index_; i < specs_.size(); ++i) {
      query::QuerySpec probe = specs_[i];
      probe.limit = 1;
      probe.offset = 0;
      query::CursorOptions options;
      options.first_page = 1;
      if (query::Cursor(*reg_, probe, options).next()) return *more_ = true;
    }
    return *more_;
  }

  // Why there is no row (every search ran to its end without one); nothing if there is one.
  std::vector<query::EmptyReason> why_empty() {
    if (!is_empty()) return {};
    std::vector<query::EmptyReason> out;
    for (const auto& [spec, cursor] : empty_)
      for (auto& r : query::explain_empty(*reg_, spec, cursor)) {
        if (r.dataset_type.empty() && spec.datasets) r.dataset_type = spec.datasets->dataset_type;
        out.push_back(std::move(r));
      }
    return out;
  }

  std::int64_t produced() const { return produced_; }

 private:
  std::optional<query::ResultRow> read() {
    while (true) {
      if (limit_ > 0 && produced_ >= limit_) return std::nullopt;
      if (!cursor_) {
        if (index_ >= specs_.size()) return std::nullopt;
        auto& spec = specs_[index_];
        if (limit_ > 0 && !spec.limit) spec.limit = limit_ - produced_;
        cursor_.emplace(*reg_, spec);
        current_rows_ = 0;
      }
      if (auto row = cursor_->next()) {
        ++produced_;
        ++current_rows_;
        return row;
      }
      finish_current();
    }
  }

  void finish_current() {
    if (current_rows_ == 0) empty_.emplace_back(specs_[index_], std::move(*cursor_));
    cursor_.reset();
    ++index_;
  }

  Registry* reg_;
  std::vector<query::QuerySpec> specs_;
  std::int64_t limit_;
  std::size_t index_ = 0;
  std::optional<query::Cursor> cursor_;
  std::int64_t produced_ = 0, current_rows_ = 0;
  std::optional<bool> more_;
  std::optional<query::ResultRow> pending_;  // read by is_empty(), not yet handed out
  std::vector<std::pair<query::QuerySpec, query::Cursor>> empty_;
};

}  // namespace

// ---- OrderBy

OrderBy OrderBy::parse(std::string_view text) {
  OrderBy o;
  if (!text.empty() && text.front() == '-') {
    o.direction = SortDirection::kDescending;
    text.remove_prefix(1);
  }
  if (text.empty()) throw InvalidArgumentError("an empty --order-by item: give a dimension or field, '-' for descending");
  o.column = std::string(text);
  return o;
}

std::vector<OrderBy> OrderBy::parse(const std::vector<std::string>& texts) {
  std::vector<OrderBy> out;
  for (const auto& t : texts) out.push_back(parse(t));
  return out;
}

std::string OrderBy::str() const { return (direction == SortDirection::kDescending ? "-" : "") + column; }

// ---- DatasetResults

struct DatasetResults::Impl {
  std::vector<DatasetType> types;
  std::optional<Searches> searches;
  std::vector<query::EmptyReason> unmatched;  // no type matched the request's patterns
};

DatasetResults::DatasetResults(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DatasetResults::DatasetResults(DatasetResults&&) noexcept = default;
DatasetResults& DatasetResults::operator=(DatasetResults&&) noexcept = default;
DatasetResults::~DatasetResults() = default;

const std::vector<DatasetType>& DatasetResults::dataset_types() const { return impl_->types; }

std::optional<DatasetRef> DatasetResults::next() {
  auto row = impl_->searches->next();
  if (!row) return std::nullopt;
  return std::move(*row->dataset);
}

bool DatasetResults::more() { return impl_->searches->more(); }

std::vector<DatasetRef> DatasetResults::all() {
  std::vector<DatasetRef> out;
  while (auto ref = next()) out.push_back(std::move(*ref));
  return out;
}

bool DatasetResults::empty() { return !impl_->unmatched.empty() || impl_->searches->is_empty(); }

std::vector<query::EmptyReason> DatasetResults::why_empty() {
  if (!impl_->unmatched.empty()) return impl_->unmatched;
  return impl_->searches->why_empty();
}

DatasetResults Butler::query_datasets(const DatasetsRequest& request) {
  auto impl = std::make_unique<DatasetResults::Impl>();
  impl->types = resolve_types(*registry_, request.dataset_types);
  if (impl->types.empty())
    impl->unmatched.push_back({query::EmptyReason::Kind::kNoDatasetType, "",
                               request.dataset_types.empty() ? std::vector<std::string>{"*"} : request.dataset_types, 0});
  std::vector<query::QuerySpec> specs;
  for (const auto& t : impl->types) {
    query::QuerySpec spec;
    spec.datasets = query::DatasetSearch{t.name, or_all(request.collections), request.find_first == FindFirst::kYes};
    spec.where = request.where;
    spec.binds = request.binds;
    spec.data_id = request.data_id;
    spec.order_by = order_texts(request.order_by);
    specs.push_back(std::move(spec));
  }
  impl->searches.emplace(*registry_, std::move(specs), request.limit);
  return DatasetResults(std::move(impl));
}

// ---- DataIdResults

struct DataIdResults::Impl {
  dimensions::DimensionGroup dimensions;
  std::vector<std::string> keys;
  std::optional<Searches> searches;
  bool union_of_several = false;  // offset and limit apply here, over the union
  std::int64_t offset = 0, limit = 0, skipped = 0, produced = 0;
  std::set<std::vector<std::string>> seen;
  std::optional<bool> more;
  std::vector<query::EmptyReason> unmatched;

  std::optional<registry::DataId> next_unique() {
    while (auto row = searches->next()) {
      if (!union_of_several) return std::move(row->data_id);
      std::vector<std::string> key;
      for (const auto& k : keys) {
        auto it = row->data_id.find(k);
        key.push_back(it == row->data_id.end() ? "" : dimensions::to_string(it->second));
      }
      if (seen.insert(std::move(key)).second) return std::move(row->data_id);
    }
    return std::nullopt;
  }
};

DataIdResults::DataIdResults(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DataIdResults::DataIdResults(DataIdResults&&) noexcept = default;
DataIdResults& DataIdResults::operator=(DataIdResults&&) noexcept = default;
DataIdResults::~DataIdResults() = default;

const dimensions::DimensionGroup& DataIdResults::dimensions() const { return impl_->dimensions; }

std::optional<registry::DataId> DataIdResults::next() {
  auto& d = *impl_;
  if (!d.union_of_several) return d.next_unique();
  if (d.limit > 0 && d.produced >= d.limit) return std::nullopt;
  while (d.skipped < d.offset) {
    if (!d.next_unique()) return std::nullopt;
    ++d.skipped;
  }
  auto id = d.next_unique();
  if (id) ++d.produced;
  return id;
}

bool DataIdResults::more() {
  auto& d = *impl_;
  if (!d.union_of_several) return d.searches->more();
  if (d.limit <= 0 || d.produced < d.limit) return false;
  if (!d.more) d.more = d.next_unique().has_value();
  return *d.more;
}

std::vector<registry::DataId> DataIdResults::all() {
  std::vector<registry::DataId> out;
  while (auto id = next()) out.push_back(std::move(*id));
  return out;
}

bool DataIdResults::empty() { return !impl_->unmatched.empty() || impl_->searches->is_empty(); }

std::vector<query::EmptyReason> DataIdResults::why_empty() {
  if (!impl_->unmatched.empty()) return impl_->unmatched;
  return impl_->searches->why_empty();
}

DataIdResults Butler::query_data_ids(const DataIdsRequest& request) {
  auto impl = std::make_unique<DataIdResults::Impl>();
  std::vector<DatasetType> types;  // none given: no dataset constraint (not every type)
  if (!request.dataset_types.empty()) types = resolve_types(*registry_, request.dataset_types);
  if (request.dimensions.empty() && request.dataset_types.empty())
    throw InvalidArgumentError("a data ID query needs dimensions (e.g. visit detector) or a dataset type");
  if (!request.dataset_types.empty() && types.empty())
    impl->unmatched.push_back({query::EmptyReason::Kind::kNoDatasetType, "", request.dataset_types, 0});
  std::vector<std::string> dims = request.dimensions;
  if (dims.empty() && !types.empty()) dims = types.front().dimensions.required();
  impl->dimensions = registry_->universe().group(dims);
  impl->keys = impl->dimensions.data_id_keys();
  std::vector<std::optional<std::string>> searches;
  for (const auto& t : types) searches.emplace_back(t.name);
  if (request.dataset_types.empty()) searches.emplace_back(std::nullopt);
  impl->union_of_several = searches.size() > 1;
  impl->offset = request.offset;
  impl->limit = request.limit;
  std::vector<query::QuerySpec> specs;
  for (const auto& type : searches) {
    query::QuerySpec spec;
    spec.dimensions = dims;
    if (type) spec.datasets = query::DatasetSearch{*type, or_all(request.collections), false};
    spec.where = request.where;
    spec.binds = request.binds;
    spec.data_id = request.data_id;
    spec.order_by = order_texts(request.order_by);
    if (!impl->union_of_several) {
      spec.offset = request.offset;
      spec.limit = request.limit;
    }
    specs.push_back(std::move(spec));
  }
  impl->searches.emplace(*registry_, std::move(specs), impl->union_of_several ? 0 : request.limit);
  return DataIdResults(std::move(impl));
}

// ---- DimensionRecordResults

struct DimensionRecordResults::Impl {
  const dimensions::DimensionElement* element = nullptr;
  std::optional<Searches> searches;
};

DimensionRecordResults::DimensionRecordResults(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DimensionRecordResults::DimensionRecordResults(DimensionRecordResults&&) noexcept = default;
DimensionRecordResults& DimensionRecordResults::operator=(DimensionRecordResults&&) noexcept = default;
DimensionRecordResults::~DimensionRecordResults() = default;

const dimensions::DimensionElement& DimensionRecordResults::element() const { return *impl_->element; }

std::optional<dimensions::DimensionRecord> DimensionRecordResults::next() {
  auto row = impl_->searches->next();
  if (!row) return std::nullopt;
  return std::move(*row->record);
}

bool DimensionRecordResults::more() { return impl_->searches->more(); }

std::vector<dimensions::DimensionRecord> DimensionRecordResults::all() {
  std::vector<dimensions::DimensionRecord> out;
  while (auto r = next()) out.push_back(std::move(*r));
  return out;
}

bool DimensionRecordResults::empty() { return impl_->searches->is_empty(); }

std::vector<query::EmptyReason> DimensionRecordResults::why_empty() { return impl_->searches->why_empty(); }

DimensionRecordResults Butler::query_dimension_records(const DimensionRecordsRequest& request) {
  auto impl = std::make_unique<DimensionRecordResults::Impl>();
  impl->element = &registry_->universe().get(request.element);  // NotFoundError naming it
  query::QuerySpec spec;
  spec.records_of = request.element;
  spec.where = request.where;
  spec.binds = request.binds;
  spec.data_id = request.data_id;
  spec.order_by = order_texts(request.order_by);
  spec.limit = request.limit;
  spec.offset = request.offset;
  if (!request.dataset_type.empty())
    spec.datasets = query::DatasetSearch{registry_->get_dataset_type(request.dataset_type).name,
                                         or_all(request.collections), false};
  impl->searches.emplace(*registry_, std::vector<query::QuerySpec>{std::move(spec)}, request.limit);
  return DimensionRecordResults(std::move(impl));
}

// ---- collections and dataset types

std::vector<registry::CollectionRecord> Butler::query_collections(const CollectionsRequest& request) {
  std::vector<registry::CollectionRecord> matched;
  if (request.types.empty()) {
    matched = registry_->query_collections(request.globs);
  } else {
    for (auto type : request.types)
      for (auto& c : registry_->query_collections(request.globs, type)) matched.push_back(std::move(c));
    std::sort(matched.begin(), matched.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  if (!request.flatten_chains) return matched;
  std::vector<registry::CollectionRecord> out;
  std::set<std::string> seen;
  for (const auto& c : matched) {
    if (c.type == CollectionType::kChained && request.include_chains && seen.insert(c.name).second) out.push_back(c);
    for (auto& child : registry_->flatten({c.name}))
      if (seen.insert(child.name).second) out.push_back(std::move(child));
  }
  return out;
}

std::vector<DatasetType> Butler::query_dataset_types(const DatasetTypesRequest& request) {
  auto types = registry_->query_dataset_types(request.globs);
  if (request.collections.empty()) return types;
  std::set<std::string> present;
  for (const auto& c : registry_->query_collections(request.collections))
    for (const auto& t : registry_->collection_summary(c.name).dataset_types) present.insert(t);
  std::erase_if(types, [&](const DatasetType& t) { return !present.count(t.name); });
  return types;
}

// ---- prune

std::vector<DatasetRef> Butler::prune_selection(const PruneRequest& request) {
  if (request.actions.empty())
    throw InvalidArgumentError("say what to do with the datasets: purge them, unstore them or disassociate them");
  bool purge = request.actions.count(PruneAction::kPurge) > 0;
  if (purge && request.purge_run.empty()) throw InvalidArgumentError("a purge names the RUN the datasets are in");
  if (request.actions.count(PruneAction::kDisassociate) && request.disassociate_from.empty())
    throw InvalidArgumentError("disassociating needs the TAGGED collections to remove the datasets from");
  std::vector<std::string> search = request.collections;
  if (search.empty() && purge) search = {request.purge_run};
  if (search.empty()) throw InvalidArgumentError("give the collections to search for the datasets to prune");
  DatasetsRequest query;
  query.dataset_types = request.dataset_types;
  query.collections = search;
  query.where = request.where;
  query.find_first = request.find_first;
  auto refs = query_datasets(query).all();
  if (purge)
    for (const auto& r : refs)
      if (r.run != request.purge_run)
        throw InvalidArgumentError(
            fmt::format("dataset {} is in run '{}', not in '{}' given to purge", r.id.str(), r.run, request.purge_run));
  return refs;
}

void Butler::prune(const PruneRequest& request, const std::vector<DatasetRef>& datasets) {
  if (datasets.empty()) return;
  if (request.actions.count(PruneAction::kDisassociate))
    for (const auto& tag : request.disassociate_from) registry_->disassociate(tag, datasets);
  std::vector<Uuid> ids;
  for (const auto& r : datasets) ids.push_back(r.id);
  if (request.actions.count(PruneAction::kPurge)) {
    remove_datasets(ids);
  } else if (request.actions.count(PruneAction::kUnstore)) {
    unstore_datasets(ids);
  }
}

}  // namespace majordome::butler
