// Collection operations of the Butler (butler.hpp): chains, tagging, certification and
// removal, each one registry transaction.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <fmt/ranges.h>

#include "majordome/butler/butler.hpp"
#include "majordome/core/error.hpp"

namespace majordome::butler {

namespace {

// Registers `name` as a collection of `type` for an operation that writes into it, refusing an
// existing collection of another type.
void require_collection_type(Registry& reg, const std::string& name, CollectionType type, const std::string& operation) {
  if (auto existing = reg.find_collection(name); existing && existing->type != type)
    throw CollectionTypeError(fmt::format(
        "'{}' is a {} collection; {} writes into a {} collection: give a new name (it is created as {}) or an "
        "existing {} collection", name, registry::collection_type_name(existing->type), operation,
        registry::collection_type_name(type), registry::collection_type_name(type), registry::collection_type_name(type)));
  reg.register_collection(name, type);
}

void unlink_from_parents(Registry& reg, const std::string& name) {
  for (const auto& parent : reg.chain_parents(name)) {
    auto kids = reg.chain_children(parent);
    kids.erase(std::remove(kids.begin(), kids.end(), name), kids.end());
    reg.set_chain(parent, kids);
  }
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

std::vector<std::string> Butler::edit_chain(const ChainRequest& request) {
  auto& reg = *registry_;
  auto txn = reg.transaction(registry::TransactionMode::kWrite);
  auto kids = request.children;
  if (request.flatten && (request.edit == ChainEdit::kRemove || request.edit == ChainEdit::kPop))
    throw InvalidArgumentError("--flatten applies to the children a chain is given (redefine, extend, prepend), not "
                               "to remove or pop");
  if (request.edit == ChainEdit::kRedefine || request.edit == ChainEdit::kExtend || request.edit == ChainEdit::kPrepend)
    if (!reg.find_collection(request.parent)) reg.register_collection(request.parent, CollectionType::kChained, request.doc);
  if (request.flatten) {
    std::vector<std::string> flat;
    for (const auto& c : reg.flatten(kids)) flat.push_back(c.name);
    kids = std::move(flat);
  }
  std::vector<std::string> current = reg.chain_children(request.parent);
  std::vector<std::string> result;
  switch (request.edit) {
    case ChainEdit::kRedefine: result = kids; break;
    case ChainEdit::kExtend:  // as Rubin: the given children go last, moved there if already in
      for (const auto& c : current)
        if (!contains(kids, c)) result.push_back(c);
      for (const auto& k : kids)
        if (!contains(result, k)) result.push_back(k);
      break;
    case ChainEdit::kPrepend:
      result = kids;
      for (const auto& c : current)
        if (!contains(kids, c)) result.push_back(c);
      break;
    case ChainEdit::kRemove:  // as Rubin, a name that is not a child is ignored (and said)
      for (const auto& k : kids)
        if (!contains(current, k)) spdlog::warn("'{}' is not a child of '{}'; nothing to remove", k, request.parent);
      for (const auto& c : current)
        if (!contains(kids, c)) result.push_back(c);
      break;
    case ChainEdit::kPop: {
      std::vector<long> positions = request.positions.empty() ? std::vector<long>{0} : request.positions;
      std::set<std::size_t> drop;
      long n = static_cast<long>(current.size());
      for (auto i : positions) {
        long idx = i < 0 ? n + i : i;
        if (idx < 0 || idx >= n)
          throw InvalidArgumentError(
              fmt::format("position {} is outside the chain '{}' of {} children", i, request.parent, n));
        drop.insert(static_cast<std::size_t>(idx));
      }
      for (std::size_t i = 0; i < current.size(); ++i)
        if (!drop.count(i)) result.push_back(current[i]);
      break;
    }
  }
  reg.set_chain(request.parent, result);
  txn.commit();
  return result;
}

std::vector<DatasetRef> Butler::associate(const std::string& tagged, const DatasetsRequest& datasets) {
  auto txn = registry_->transaction(registry::TransactionMode::kWrite);  // a refused association leaves no new collection
  require_collection_type(*registry_, tagged, CollectionType::kTagged, "associate");
  auto refs = query_datasets(datasets).all();
  registry_->associate(tagged, refs);
  txn.commit();
  return refs;
}

std::vector<DatasetRef> Butler::certify(const CertifyRequest& request) {
  std::vector<std::string> search{request.input};
  auto in = registry_->get_collection(request.input);
  if (in.type == CollectionType::kChained && !request.search_all_inputs) {
    auto kids = registry_->chain_children(request.input);
    search = kids.empty() ? std::vector<std::string>{} : std::vector<std::string>{kids.front()};
  }
  registry::DatasetQuery q;
  q.collections = search;
  q.find_first = true;
  auto refs = registry_->query_datasets(request.dataset_type, q);
  if (refs.empty())
    throw NotFoundError(fmt::format("no '{}' datasets in '{}' to certify", request.dataset_type, request.input));
  auto txn = registry_->transaction(registry::TransactionMode::kWrite);
  require_collection_type(*registry_, request.output, CollectionType::kCalibration, "certify-calibrations");
  registry_->certify(request.output, refs, request.validity);
  txn.commit();
  return refs;
}

std::vector<RunSummary> Butler::run_summaries(const std::vector<std::string>& globs) {
  std::vector<RunSummary> out;
  for (auto& r : registry_->query_collections(globs, CollectionType::kRun)) {
    auto count = registry_->count_datasets(r.name);
    out.push_back({std::move(r), count});
  }
  return out;
}

void Butler::remove_runs(const std::vector<std::string>& runs, bool unlink_from_chains) {
  for (const auto& r : runs) {
    if (unlink_from_chains) {
      auto txn = registry_->transaction(registry::TransactionMode::kWrite);
      unlink_from_parents(*registry_, r);
      txn.commit();
    }
    remove_run(r);
  }
}

void Butler::remove_collections(const std::vector<std::string>& names, bool unlink_from_chains) {
  auto txn = registry_->transaction(registry::TransactionMode::kWrite);
  for (const auto& name : names) {
    if (registry_->get_collection(name).type == CollectionType::kRun)
      throw InvalidArgumentError(fmt::format("'{}' is a RUN collection: remove it with remove-runs", name));
    if (unlink_from_chains) unlink_from_parents(*registry_, name);
    registry_->remove_collection(name);
  }
  txn.commit();
}

}  // namespace majordome::butler
