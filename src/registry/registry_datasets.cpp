// Datasets: insertion with reproducible IDs, find-first searches, TAGGED and CALIBRATION
// associations, removal through the datastore trash.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "registry_impl.hpp"

namespace majordome::registry {
namespace {

const Uuid kDatasetIdNamespace = Uuid::get("840b31d9-05cd-5161-b2c8-00d32b280d0f");

// IDs per lookup statement (`… IN (?, ?, …)`).
constexpr std::size_t kLookupChunk = 500;

std::string required_key(const DataId& id, const std::vector<std::string>& required) {
  std::string key;
  for (const auto& d : required) {
    key += dimensions::to_string(id.at(d));
    key += '\x1f';
  }
  return key;
}

// Orders data IDs by their required values (integers numerically).
bool data_id_less(const DataId& a, const DataId& b, const std::vector<std::string>& keys) {
  for (const auto& k : keys) {
    auto ia = a.find(k), ib = b.find(k);
    if (ia == a.end() || ib == b.end()) continue;
    if (ia->second != ib->second) return ia->second < ib->second;
  }
  return false;
}

}  // namespace

IdGenerationMode parse_id_generation_mode(std::string_view given) {
  std::string name(given);  // in any case, as Rubin reads it
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name == "UNIQUE") return IdGenerationMode::kUnique;
  if (name == "DATAID_TYPE") return IdGenerationMode::kDataIdType;
  if (name == "DATAID_TYPE_RUN") return IdGenerationMode::kDataIdTypeRun;
  throw InvalidArgumentError(fmt::format("unknown ID generation mode '{}'; use UNIQUE, DATAID_TYPE or DATAID_TYPE_RUN", given));
}

Uuid make_dataset_id(IdGenerationMode mode, const std::string& dataset_type, const std::string& run,
                     const DataId& required_data_id) {
  if (mode == IdGenerationMode::kUnique) return Uuid::v7();
  std::string s = "dataset_type=" + dataset_type;
  if (mode == IdGenerationMode::kDataIdTypeRun) s += ",run=" + run;
  for (const auto& [key, value] : required_data_id) s += "," + key + "=" + dimensions::to_string(value);
  return Uuid::v5(kDatasetIdNamespace, s);
}

void Registry::update_summary(std::int64_t collection_id, std::int64_t type_id, const DatasetType& type,
                              const std::vector<DataId>& data_ids) {
  db_->execute("INSERT INTO collection_summary_dataset_type (collection_id, dataset_type_id) VALUES (?, ?) "
               "ON CONFLICT DO NOTHING", {collection_id, type_id});
  for (const auto& g : universe_->governors()) {
    if (!type.dimensions.contains(g)) continue;
    std::set<std::string> values;
    for (const auto& id : data_ids) values.insert(dimensions::to_string(id.at(g)));
    for (const auto& v : values)
      db_->execute(fmt::format("INSERT INTO collection_summary_{0} (collection_id, {0}) VALUES (?, ?) "
                               "ON CONFLICT DO NOTHING", g), {collection_id, v});
  }
}

std::vector<DatasetRef> Registry::insert_datasets(const std::string& dataset_type, const std::string& run,
                                                  const std::vector<DataId>& data_ids, IdGenerationMode mode) {
  auto type = get_dataset_type(dataset_type);
  if (type.is_component())
    throw InvalidArgumentError(fmt::format("cannot insert datasets of component type '{}'", dataset_type));
  std::vector<DatasetRef> refs;
  refs.reserve(data_ids.size());
  // Expansion looks each distinct record up once, a few queries for all of them.
  std::map<std::string, DataId> expanded_cache;
  RecordCache records;
  prefetch_records(data_ids, type.dimensions, records);
  for (const auto& id : data_ids) {
    DataId conformed = conform_data_id(id, type.dimensions);
    std::string key = required_key(conformed, type.dimensions.required());
    auto it = expanded_cache.find(key);
    if (it == expanded_cache.end()) it = expanded_cache.emplace(key, expand_data_id(conformed, type.dimensions, records)).first;
    DataId required;
    for (const auto& d : type.dimensions.required()) required[d] = it->second.at(d);
    refs.push_back({make_dataset_id(mode, type.name, run, required), type.name, it->second, run});
  }
  import_datasets(dataset_type, run, refs, false);
  return refs;
}

void Registry::import_datasets(const std::string& dataset_type, const std::string& run,
                               const std::vector<DatasetRef>& refs, bool skip_existing) {
  auto type = get_dataset_type(dataset_type);
  Transaction txn(*db_, TransactionMode::kWrite);
  auto run_record = get_collection(run);
  if (run_record.type != CollectionType::kRun)
    throw CollectionTypeError(fmt::format("datasets can only be added to a RUN collection; '{}' is {}", run,
                                          collection_type_name(run_record.type)));
  auto type_id = dataset_type_id(dataset_type);
  const auto& required = type.dimensions.required();
  std::vector<std::string> dims;
  for (const auto& d : required) dims.push_back(quote(d));
  BulkInsert insert_dataset{"dataset", {"dataset_id", "dataset_type_id", "run_id", "ingest_date"}, ""};
  BulkInsert insert_tag{tags_table(type), {"dataset_type_id", "collection_id", "dataset_id"}, ""};
  insert_tag.columns.insert(insert_tag.columns.end(), dims.begin(), dims.end());
  auto now = TaiTime::now().ns();
  // Which of the IDs exist already: one query per chunk instead of one per dataset.
  std::set<Uuid> existing_ids;
  for (std::size_t start = 0; start < refs.size(); start += kLookupChunk) {
    std::size_t end = std::min(refs.size(), start + kLookupChunk);
    Params ids;
    for (std::size_t i = start; i < end; ++i) ids.push_back(db_->uuid_value(refs[i].id));
    std::vector<std::string> id_marks(ids.size(), "?");
    for (const auto& row : db_->query(fmt::format("SELECT dataset_id FROM dataset WHERE dataset_id IN ({})",
                                                  fmt::join(id_marks, ", ")), ids).rows)
      existing_ids.insert(db_->uuid_from(row[0]));
  }
  std::vector<DataId> new_ids;
  std::vector<const DatasetRef*> new_refs;
  Params dataset_rows, tag_rows;
  for (const auto& ref : refs) {
    DataId id = conform_data_id(ref.data_id, type.dimensions);
    if (existing_ids.count(ref.id)) {
      auto have = get_dataset(ref.id);
      DataId have_required;
      for (const auto& d : required) have_required[d] = have->data_id.at(d);
      DataId want_required;
      for (const auto& d : required) want_required[d] = id.at(d);
      if (skip_existing && have && have->dataset_type == type.name && have->run == run && have_required == want_required)
        continue;
      throw ConflictError(fmt::format("dataset {} already exists as {} {} in run '{}'; it cannot also be {} {} in run '{}'",
                                      ref.id.str(), have->dataset_type,
                                      dimensions::format_data_id(have_required, required), have->run, type.name,
                                      dimensions::format_data_id(want_required, required), run));
    }
    const auto uuid = db_->uuid_value(ref.id);
    dataset_rows.insert(dataset_rows.end(), {uuid, type_id, run_record.id, now});
    tag_rows.insert(tag_rows.end(), {type_id, run_record.id, uuid});
    for (const auto& d : required) tag_rows.push_back(to_sql(id.at(d)));
    new_ids.push_back(std::move(id));
    new_refs.push_back(&ref);
  }
  insert_rows_naming_conflicts(*db_, insert_dataset, dataset_rows, [&](std::size_t row, const std::string& what) {
    return fmt::format("cannot insert dataset {} ('{}' {} in run '{}'): {}", new_refs[row]->id.str(), type.name,
                       dimensions::format_data_id(new_ids[row], required), run, what);
  });
  insert_rows_naming_conflicts(*db_, insert_tag, tag_rows, [&](std::size_t row, const std::string&) {
    return fmt::format("run '{}' already has a '{}' dataset with data ID {}; a RUN holds at most one "
                       "dataset per dataset type and data ID",
                       run, type.name, dimensions::format_data_id(new_ids[row], required));
  });
  if (!new_ids.empty()) update_summary(run_record.id, type_id, type, new_ids);
  note_inserted(tags_table(type), new_ids.size());
  note_inserted("dataset", new_ids.size());
  txn.commit();
}

std::map<Uuid, DatasetRef> Registry::find_datasets(const std::vector<DatasetRef>& refs) {
  std::map<Uuid, DatasetRef> out;
  // Type and run of each ID, then the data IDs from each type's tags table: a few queries per
  // chunk of IDs instead of three per dataset.
  std::map<std::string, std::vector<Uuid>> of_type;
  for (std::size_t start = 0; start < refs.size(); start += kLookupChunk) {
    std::size_t stop = std::min(refs.size(), start + kLookupChunk);
    Params ids;
    for (std::size_t i = start; i < stop; ++i) ids.push_back(db_->uuid_value(refs[i].id));
    auto rows = db_->query(fmt::format("SELECT d.dataset_id, t.name, c.name FROM dataset d JOIN dataset_type t ON "
                                       "t.dataset_type_id = d.dataset_type_id JOIN collection c ON c.collection_id = "
                                       "d.run_id WHERE d.dataset_id IN ({})",
                                       fmt::join(std::vector<std::string>(ids.size(), "?"), ", ")),
                           ids);
    for (const auto& row : rows.rows) {
      DatasetRef ref;
      ref.id = db_->uuid_from(row[0]);
      ref.dataset_type = as_string(row[1]);
      ref.run = as_string(row[2]);
      if (out.emplace(ref.id, ref).second) of_type[ref.dataset_type].push_back(ref.id);
    }
  }
  for (const auto& [name, ids] : of_type) {
    auto type = get_dataset_type(name);
    std::vector<std::string> dims;
    for (const auto& d : type.dimensions.required()) dims.push_back("t." + quote(d));
    for (std::size_t start = 0; start < ids.size(); start += kLookupChunk) {
      std::size_t stop = std::min(ids.size(), start + kLookupChunk);
      Params params;
      for (std::size_t i = start; i < stop; ++i) params.push_back(db_->uuid_value(ids[i]));
      auto rows = db_->query(fmt::format("SELECT t.dataset_id{} FROM {} t JOIN dataset d ON d.dataset_id = t.dataset_id "
                                         "AND d.run_id = t.collection_id WHERE t.dataset_id IN ({})",
                                         dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", ")),
                                         tags_table(type), fmt::join(std::vector<std::string>(stop - start, "?"), ", ")),
                             params);
      for (const auto& row : rows.rows) {
        auto& ref = out.at(db_->uuid_from(row[0]));
        for (std::size_t i = 0; i < type.dimensions.required().size(); ++i)
          ref.data_id[type.dimensions.required()[i]] = data_id_value_from_sql(row[1 + i]);
      }
    }
  }
  return out;
}

DatasetRef Registry::ref_from_tags_row(const DatasetType& type, const std::vector<SqlValue>& row, std::size_t first_dim) {
  DatasetRef ref;
  ref.id = db_->uuid_from(row[0]);
  ref.dataset_type = type.name;
  for (std::size_t i = 0; i < type.dimensions.required().size(); ++i)
    ref.data_id[type.dimensions.required()[i]] = data_id_value_from_sql(row[first_dim + i]);
  return ref;
}

std::optional<DatasetRef> Registry::get_dataset(const Uuid& id) {
  auto rows = db_->query("SELECT t.name, c.name FROM dataset d JOIN dataset_type t ON t.dataset_type_id = d.dataset_type_id "
                         "JOIN collection c ON c.collection_id = d.run_id WHERE d.dataset_id = ?", {db_->uuid_value(id)});
  if (rows.empty()) return std::nullopt;
  auto type = get_dataset_type(as_string(rows.rows[0][0]));
  std::string run = as_string(rows.rows[0][1]);
  std::vector<std::string> dims;
  for (const auto& d : type.dimensions.required()) dims.push_back(quote(d));
  std::string dim_list = dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", "));
  auto tag = db_->query(fmt::format("SELECT dataset_id{} FROM {} WHERE dataset_id = ? AND collection_id = "
                                    "(SELECT run_id FROM dataset WHERE dataset_id = ?)", dim_list, tags_table(type)),
                        {db_->uuid_value(id), db_->uuid_value(id)});
  if (tag.empty()) throw InternalError("dataset " + id.str() + " has no row for its own run");
  auto ref = ref_from_tags_row(type, tag.rows[0], 1);
  ref.run = run;
  return ref;
}

std::optional<DatasetRef> Registry::find_dataset(const std::string& dataset_type, const DataId& data_id,
                                                 const std::vector<std::string>& collections,
                                                 std::optional<Timespan> timespan) {
  auto type = get_dataset_type(dataset_type);
  DatasetQuery q;
  q.collections = collections;
  q.find_first = true;
  q.timespan = timespan;
  DataId id = conform_data_id(data_id, type.dimensions);
  for (const auto& d : type.dimensions.required()) q.equals[d] = {id.at(d)};
  auto refs = query_datasets(dataset_type, q);
  if (refs.empty()) return std::nullopt;
  return refs.front();
}

std::vector<DatasetRef> Registry::query_datasets(const std::string& dataset_type, const DatasetQuery& query) {
  auto type = get_dataset_type(dataset_type);
  const auto& required = type.dimensions.required();
  // Resolve collection names and wildcards into a search order.
  std::vector<std::string> names;
  for (const auto& c : query.collections) {
    if (c == "*" || c == "..." || is_glob(c)) {
      if (query.find_first)
        throw InvalidQueryError(fmt::format("Can not use wildcards in collections ('{}') with find-first search; "
                                            "list the collections in order", c));
      for (const auto& r : query_collections({c})) names.push_back(r.name);
    } else {
      names.push_back(c);
    }
  }
  auto searched = flatten(names);
  std::map<std::int64_t, std::size_t> rank;
  std::map<std::int64_t, std::string> collection_names;
  std::vector<std::int64_t> plain, calib;
  for (std::size_t i = 0; i < searched.size(); ++i) {
    const auto& c = searched[i];
    rank.emplace(c.id, i);
    collection_names[c.id] = c.name;
    if (c.type == CollectionType::kCalibration) calib.push_back(c.id);
    else plain.push_back(c.id);
  }

  std::vector<std::string> dims;
  for (const auto& d : required) dims.push_back("t." + quote(d));
  std::string dim_list = dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", "));
  auto type_id = dataset_type_id(dataset_type);

  struct Hit {
    DatasetRef ref;
    std::size_t rank;
  };
  std::vector<Hit> hits;
  auto run_query = [&](const std::string& table, const std::vector<std::int64_t>& ids, bool calibration) {
    if (ids.empty()) return;
    std::string sql = fmt::format("SELECT t.dataset_id, t.collection_id, r.name{} FROM {} t "
                                  "JOIN dataset d ON d.dataset_id = t.dataset_id JOIN collection r ON r.collection_id = d.run_id",
                                  dim_list, table);
    for (const auto& e : query.sql_joins) sql += " " + e;
    Params params{type_id};
    std::vector<std::string> where{"t.dataset_type_id = ?"};
    std::vector<std::string> marks(ids.size(), "?");
    where.push_back(fmt::format("t.collection_id IN ({})", fmt::join(marks, ", ")));
    for (auto id : ids) params.emplace_back(id);
    for (const auto& [dim, values] : query.equals) {
      if (!type.dimensions.contains(dim))
        throw InvalidQueryError(fmt::format("dataset type '{}' has no dimension '{}' (its dimensions are {})",
                                            type.name, dim, type.dimensions.str()));
      if (std::find(required.begin(), required.end(), dim) == required.end()) continue;  // implied: checked after expansion
      std::vector<std::string> value_marks(values.size(), "?");
      where.push_back(fmt::format("t.{} IN ({})", quote(dim), fmt::join(value_marks, ", ")));
      for (const auto& v : values) params.push_back(to_sql(dimensions::conform_value(universe_->get(dim), v)));
    }
    if (calibration && query.timespan) {
      where.emplace_back("t.timespan_end > ? AND t.timespan_begin < ?");
      params.emplace_back(query.timespan->begin_ns());
      params.emplace_back(query.timespan->end_ns());
    }
    if (!query.sql_predicate.empty()) {
      where.push_back("(" + query.sql_predicate + ")");
      params.insert(params.end(), query.sql_params.begin(), query.sql_params.end());
    }
    sql += fmt::format(" WHERE {}", fmt::join(where, " AND "));
    for (const auto& row : db_->query(sql, params).rows) {
      auto ref = ref_from_tags_row(type, row, 3);
      ref.run = as_string(row[2]);
      hits.push_back({std::move(ref), rank.at(as_int(row[1]))});
    }
  };
  run_query(tags_table(type), plain, false);
  // A find-first lookup with no timespan skips CALIBRATION collections, as Rubin's does.
  if (type.is_calibration && !(query.find_first && !query.timespan))
    run_query(fmt::format("calibs_{:08d}", cache_->dataset_types.at(type.parent_name()).group_id), calib, true);

  std::vector<DatasetRef> out;
  if (query.find_first) {
    std::map<std::string, std::size_t> best;  // data ID → index of a hit at the lowest rank
    for (std::size_t i = 0; i < hits.size(); ++i) {
      auto key = required_key(hits[i].ref.data_id, required);
      auto it = best.find(key);
      if (it == best.end() || hits[i].rank < hits[it->second].rank) best[key] = i;
    }
    // Two different datasets at the winning rank (overlapping calibrations) are ambiguous.
    for (std::size_t i = 0; i < hits.size(); ++i) {
      const auto& winner = hits[best.at(required_key(hits[i].ref.data_id, required))];
      if (hits[i].rank == winner.rank && !(hits[i].ref.id == winner.ref.id))
        throw ConflictError(fmt::format("more than one '{}' calibration matches {} in collection '{}' for the "
                                        "given time; narrow the timespan",
                                        type.name, dimensions::format_data_id(hits[i].ref.data_id, required),
                                        searched[hits[i].rank].name));
    }
    for (const auto& [key, i] : best) out.push_back(hits[i].ref);
  } else {
    std::set<std::pair<Uuid, std::size_t>> seen;
    for (auto& h : hits)
      if (seen.insert({h.ref.id, h.rank}).second) out.push_back(h.ref);
  }
  // Expand implied dimensions (one lookup per distinct record) and apply implied constraints.
  std::map<std::string, DataId> expanded;
  RecordCache records;
  if (!type.dimensions.implied().empty()) {
    std::vector<DataId> ids;
    for (const auto& ref : out) ids.push_back(ref.data_id);
    prefetch_records(ids, type.dimensions, records);
  }
  std::vector<DatasetRef> filtered;
  for (auto& ref : out) {
    if (!type.dimensions.implied().empty()) {
      auto key = required_key(ref.data_id, required);
      auto it = expanded.find(key);
      if (it == expanded.end()) it = expanded.emplace(key, expand_data_id(ref.data_id, type.dimensions, records)).first;
      ref.data_id = it->second;
    }
    bool keep = true;
    for (const auto& [dim, values] : query.equals) {
      if (std::find(required.begin(), required.end(), dim) != required.end()) continue;
      auto v = ref.data_id.find(dim);
      keep = keep && v != ref.data_id.end() &&
             std::any_of(values.begin(), values.end(), [&](const DataIdValue& x) {
               return dimensions::conform_value(universe_->get(dim), x) == v->second;
             });
    }
    if (keep) filtered.push_back(std::move(ref));
  }
  auto keys = type.dimensions.data_id_keys();
  std::stable_sort(filtered.begin(), filtered.end(), [&](const DatasetRef& a, const DatasetRef& b) {
    if (data_id_less(a.data_id, b.data_id, keys)) return true;
    if (data_id_less(b.data_id, a.data_id, keys)) return false;
    return a.run < b.run;
  });
  if (query.limit > 0 && static_cast<std::int64_t>(filtered.size()) > query.limit)
    filtered.resize(static_cast<std::size_t>(query.limit));
  return filtered;
}

std::vector<DatasetRef> Registry::datasets_in_collection(const std::string& collection, const std::string& dataset_type) {
  DatasetQuery q;
  q.collections = {collection};
  return query_datasets(dataset_type, q);
}

std::vector<std::string> Registry::dataset_types_in_run(const std::string& run) {
  std::vector<std::string> out;
  auto c = get_collection(run);
  for (const auto& row : db_->query("SELECT DISTINCT t.name FROM dataset d JOIN dataset_type t ON t.dataset_type_id = "
                                    "d.dataset_type_id WHERE d.run_id = ? ORDER BY t.name", {c.id}).rows)
    out.push_back(as_string(row[0]));
  return out;
}

void Registry::associate(const std::string& tagged, const std::vector<DatasetRef>& refs) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto c = get_collection(tagged);
  if (c.type != CollectionType::kTagged)
    throw CollectionTypeError(fmt::format("cannot associate datasets with '{}', a {} collection; associate works on "
                                          "TAGGED collections{}", tagged, collection_type_name(c.type),
                                          c.type == CollectionType::kCalibration ? " (use certify-calibrations)" : ""));
  const auto found = find_datasets(refs);
  // What the collection holds already for the data IDs of these datasets, by type.
  std::map<std::string, std::map<std::string, Uuid>> held;  // type → data ID key → dataset
  std::map<std::string, std::vector<const DatasetRef*>> of_type;
  for (const auto& [id, ref] : found) of_type[ref.dataset_type].push_back(&ref);
  for (const auto& [name, members] : of_type) {
    auto type = get_dataset_type(name);
    const auto& required = type.dimensions.required();
    std::vector<std::string> same{"s.dataset_type_id = x.dataset_type_id"}, dims;
    for (const auto& d : required) {
      same.push_back(fmt::format("s.{0} = x.{0}", quote(d)));
      dims.push_back("x." + quote(d));
    }
    const std::string table = tags_table(type);
    for (std::size_t start = 0; start < members.size(); start += kLookupChunk) {
      std::size_t stop = std::min(members.size(), start + kLookupChunk);
      Params params{c.id, dataset_type_id(name)};
      for (std::size_t i = start; i < stop; ++i) params.push_back(db_->uuid_value(members[i]->id));
      auto rows = db_->query(
          fmt::format("SELECT x.dataset_id{} FROM {} x JOIN {} s ON {} JOIN dataset d ON d.dataset_id = s.dataset_id "
                      "AND d.run_id = s.collection_id WHERE x.collection_id = ? AND x.dataset_type_id = ? AND "
                      "s.dataset_id IN ({})",
                      dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", ")), table, table,
                      fmt::join(same, " AND "), fmt::join(std::vector<std::string>(stop - start, "?"), ", ")),
          params);
      for (const auto& row : rows.rows) {
        DataId id;
        for (std::size_t i = 0; i < required.size(); ++i) id[required[i]] = data_id_value_from_sql(row[1 + i]);
        held[name].emplace(required_key(id, required), db_->uuid_from(row[0]));
      }
    }
  }
  std::map<std::string, std::vector<DataId>> by_type;
  std::map<std::string, Params> rows;
  std::map<std::string, std::vector<const DatasetRef*>> inserted;
  for (const auto& given : refs) {
    auto it = found.find(given.id);
    if (it == found.end()) throw NotFoundError("dataset " + given.id.str() + " does not exist");
    const auto& ref = it->second;
    auto type = get_dataset_type(ref.dataset_type);
    const auto& required = type.dimensions.required();
    auto [have, fresh] = held[type.name].emplace(required_key(ref.data_id, required), ref.id);
    if (!fresh) {
      if (have->second == ref.id) continue;  // already associated
      throw ConflictError(fmt::format("collection '{}' already holds a different '{}' dataset ({}) for {}; a TAGGED "
                                      "collection holds one dataset per dataset type and data ID",
                                      tagged, type.name, have->second.str(),
                                      dimensions::format_data_id(ref.data_id, required)));
    }
    auto& values = rows[type.name];
    values.insert(values.end(), {dataset_type_id(type.name), c.id, db_->uuid_value(ref.id)});
    for (const auto& d : required) values.push_back(to_sql(ref.data_id.at(d)));
    by_type[type.name].push_back(ref.data_id);
    inserted[type.name].push_back(&ref);
  }
  for (const auto& [name, values] : rows) {
    auto type = get_dataset_type(name);
    BulkInsert insert{tags_table(type), {"dataset_type_id", "collection_id", "dataset_id"}, ""};
    for (const auto& d : type.dimensions.required()) insert.columns.push_back(quote(d));
    insert_rows_naming_conflicts(*db_, insert, values, [&](std::size_t row, const std::string& what) {
      const auto& ref = *inserted.at(name)[row];
      return fmt::format("cannot associate '{}' dataset {} {} with '{}': {}", name, ref.id.str(),
                         dimensions::format_data_id(ref.data_id, type.dimensions.required()), tagged, what);
    });
  }
  for (const auto& [name, ids] : by_type) update_summary(c.id, dataset_type_id(name), get_dataset_type(name), ids);
  txn.commit();
}

void Registry::disassociate(const std::string& tagged, const std::vector<DatasetRef>& refs) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto c = get_collection(tagged);
  if (c.type != CollectionType::kTagged)
    throw CollectionTypeError(fmt::format("cannot disassociate from '{}', a {} collection", tagged, collection_type_name(c.type)));
  for (const auto& given : refs) {
    auto ref = get_dataset(given.id);
    if (!ref) continue;
    db_->execute(fmt::format("DELETE FROM {} WHERE collection_id = ? AND dataset_id = ?",
                             tags_table(get_dataset_type(ref->dataset_type))),
                 {c.id, db_->uuid_value(ref->id)});
  }
  txn.commit();
}

void Registry::certify(const std::string& calibration, const std::vector<DatasetRef>& refs, const Timespan& span) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto c = get_collection(calibration);
  if (c.type != CollectionType::kCalibration)
    throw CollectionTypeError(fmt::format("cannot certify into '{}', a {} collection; certification needs a "
                                          "CALIBRATION collection", calibration, collection_type_name(c.type)));
  if (span.empty()) throw InvalidArgumentError("cannot certify with an empty validity range " + span.str());
  if (db_->dialect() == Dialect::kPostgres)  // serialize overlap checks between writers
    db_->execute_script("LOCK TABLE collection_summary_dataset_type IN SHARE ROW EXCLUSIVE MODE");
  const auto found = find_datasets(refs);
  struct Certified {
    Uuid id;
    Timespan timespan;
  };
  // The certifications of each type in this collection that overlap the span, by data ID.
  std::map<std::string, std::map<std::string, Certified>> clashes;
  std::map<std::string, std::vector<DataId>> by_type;
  std::map<std::string, Params> rows;
  std::map<std::string, std::vector<const DatasetRef*>> inserted;
  for (const auto& given : refs) {
    auto it = found.find(given.id);
    if (it == found.end()) throw NotFoundError("dataset " + given.id.str() + " does not exist");
    const auto& ref = it->second;
    auto type = get_dataset_type(ref.dataset_type);
    if (!type.is_calibration)
      throw CollectionTypeError(fmt::format("dataset type '{}' is not a calibration type; only calibration types can "
                                            "be certified", type.name));
    const auto& required = type.dimensions.required();
    const std::string table = fmt::format("calibs_{:08d}", cache_->dataset_types.at(type.name).group_id);
    auto known = clashes.find(type.name);
    if (known == clashes.end()) {
      known = clashes.emplace(type.name, std::map<std::string, Certified>{}).first;
      std::vector<std::string> dims;
      for (const auto& d : required) dims.push_back(quote(d));
      // Overlap of [b, e) with a stored [b', e'): e' > b AND b' < e.
      auto stored = db_->query(fmt::format("SELECT dataset_id, timespan_begin, timespan_end{} FROM {} WHERE "
                                           "dataset_type_id = ? AND collection_id = ? AND timespan_end > ? AND "
                                           "timespan_begin < ?",
                                           dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", ")), table),
                               {dataset_type_id(type.name), c.id, span.begin_ns(), span.end_ns()});
      for (const auto& row : stored.rows) {
        DataId id;
        for (std::size_t i = 0; i < required.size(); ++i) id[required[i]] = data_id_value_from_sql(row[3 + i]);
        known->second.emplace(required_key(id, required),
                              Certified{db_->uuid_from(row[0]), Timespan(as_int(row[1]), as_int(row[2]))});
      }
    }
    auto [clash, fresh] = known->second.emplace(required_key(ref.data_id, required), Certified{ref.id, span});
    if (!fresh)
      throw ConflictError(fmt::format("'{}' {} is already certified in '{}' for {} (dataset {}), which overlaps {}; "
                                      "decertify that range first",
                                      type.name, dimensions::format_data_id(ref.data_id, required), calibration,
                                      clash->second.timespan.str(), clash->second.id.str(), span.str()));
    auto& values = rows[type.name];
    values.insert(values.end(), {dataset_type_id(type.name), c.id, db_->uuid_value(ref.id)});
    for (const auto& d : required) values.push_back(to_sql(ref.data_id.at(d)));
    values.insert(values.end(), {span.begin_ns(), span.end_ns()});
    by_type[type.name].push_back(ref.data_id);
    inserted[type.name].push_back(&ref);
  }
  for (const auto& [name, values] : rows) {
    auto type = get_dataset_type(name);
    BulkInsert insert{fmt::format("calibs_{:08d}", cache_->dataset_types.at(name).group_id),
                      {"dataset_type_id", "collection_id", "dataset_id"}, ""};
    for (const auto& d : type.dimensions.required()) insert.columns.push_back(quote(d));
    insert.columns.insert(insert.columns.end(), {"timespan_begin", "timespan_end"});
    insert_rows_naming_conflicts(*db_, insert, values, [&](std::size_t row, const std::string& what) {
      const auto& ref = *inserted.at(name)[row];
      return fmt::format("cannot certify '{}' dataset {} {} in '{}': {}", name, ref.id.str(),
                         dimensions::format_data_id(ref.data_id, type.dimensions.required()), calibration, what);
    });
  }
  for (const auto& [name, ids] : by_type) update_summary(c.id, dataset_type_id(name), get_dataset_type(name), ids);
  txn.commit();
}

void Registry::decertify(const std::string& calibration, const std::string& dataset_type, const Timespan& span,
                         const std::vector<DataId>& data_ids) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto c = get_collection(calibration);
  if (c.type != CollectionType::kCalibration)
    throw CollectionTypeError(fmt::format("cannot decertify in '{}', a {} collection", calibration, collection_type_name(c.type)));
  if (span.empty()) throw InvalidArgumentError("cannot decertify an empty or inverted validity range " + span.str());
  auto type = get_dataset_type(dataset_type);
  const auto& required = type.dimensions.required();
  const std::string table = fmt::format("calibs_{:08d}", cache_->dataset_types.at(type.name).group_id);
  std::vector<std::string> dims;
  for (const auto& d : required) dims.push_back(quote(d));
  std::string dim_list = dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", "));
  auto rows = db_->query(fmt::format("SELECT id, dataset_id, timespan_begin, timespan_end{} FROM {} WHERE dataset_type_id = ? "
                                     "AND collection_id = ? AND timespan_end > ? AND timespan_begin < ?", dim_list, table),
                         {dataset_type_id(type.name), c.id, span.begin_ns(), span.end_ns()});
  std::vector<DataId> wanted;
  for (const auto& id : data_ids) wanted.push_back(conform_data_id(id, type.dimensions));
  std::vector<std::string> marks(dims.size() + 5, "?");
  for (const auto& row : rows.rows) {
    DataId id;
    for (std::size_t i = 0; i < required.size(); ++i) id[required[i]] = data_id_value_from_sql(row[4 + i]);
    if (!wanted.empty()) {
      bool match = false;
      for (const auto& w : wanted) {
        DataId wr;
        for (const auto& d : required) wr[d] = w.at(d);
        match = match || wr == id;
      }
      if (!match) continue;
    }
    db_->execute(fmt::format("DELETE FROM {} WHERE id = ?", table), {as_int(row[0])});
    Timespan old(as_int(row[2]), as_int(row[3]));
    // Re-insert what remains of the old range outside the decertified span (0, 1 or 2 pieces).
    std::vector<Timespan> pieces;
    if (old.begin_ns() < span.begin_ns()) pieces.emplace_back(old.begin_ns(), span.begin_ns());
    if (old.end_ns() > span.end_ns()) pieces.emplace_back(span.end_ns(), old.end_ns());
    for (const auto& piece : pieces) {
      Params insert{dataset_type_id(type.name), c.id, row[1]};
      for (std::size_t i = 0; i < required.size(); ++i) insert.push_back(row[4 + i]);
      insert.emplace_back(piece.begin_ns());
      insert.emplace_back(piece.end_ns());
      db_->execute(fmt::format("INSERT INTO {} (dataset_type_id, collection_id, dataset_id{}, timespan_begin, timespan_end) "
                               "VALUES ({})", table, dim_list, fmt::join(std::vector<std::string>(required.size() + 5, "?"), ", ")),
                   insert);
    }
  }
  txn.commit();
}

std::vector<Registry::Certification> Registry::query_certifications(const std::string& calibration,
                                                                    const std::string& dataset_type) {
  auto c = get_collection(calibration);
  auto type = get_dataset_type(dataset_type);
  std::vector<Certification> out;
  if (!type.is_calibration || c.type != CollectionType::kCalibration) return out;
  const auto& required = type.dimensions.required();
  std::vector<std::string> dims;
  for (const auto& d : required) dims.push_back("t." + quote(d));
  std::string dim_list = dims.empty() ? "" : fmt::format(", {}", fmt::join(dims, ", "));
  auto rows = db_->query(fmt::format("SELECT t.dataset_id, t.timespan_begin, t.timespan_end, r.name{} FROM calibs_{:08d} t "
                                     "JOIN dataset d ON d.dataset_id = t.dataset_id JOIN collection r ON r.collection_id = d.run_id "
                                     "WHERE t.dataset_type_id = ? AND t.collection_id = ? ORDER BY t.timespan_begin",
                                     dim_list, cache_->dataset_types.at(type.name).group_id),
                         {dataset_type_id(type.name), c.id});
  for (const auto& row : rows.rows) {
    DatasetRef ref;
    ref.id = db_->uuid_from(row[0]);
    ref.dataset_type = type.name;
    ref.run = as_string(row[3]);
    for (std::size_t i = 0; i < required.size(); ++i) ref.data_id[required[i]] = data_id_value_from_sql(row[4 + i]);
    out.push_back({std::move(ref), Timespan(as_int(row[1]), as_int(row[2]))});
  }
  return out;
}

void Registry::remove_datasets(const std::vector<Uuid>& ids) {
  forget_datasets(ids, "DELETE FROM dataset WHERE dataset_id = ?");
}

void Registry::unstore_datasets(const std::vector<Uuid>& ids) {
  forget_datasets(ids, "DELETE FROM datastore_record WHERE dataset_id = ?");
}

// Trashes the datastore files (relative paths: the datastore's own) of each dataset, then
// runs `delete_sql` for it, all in one transaction.
void Registry::forget_datasets(const std::vector<Uuid>& ids, const char* delete_sql) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto now = TaiTime::now().ns();
  for (const auto& id : ids) {
    for (const auto& f : stored_files(id))
      if (f.path.find("://") == std::string::npos && !f.path.empty() && f.path[0] != '/')
        db_->execute("INSERT INTO datastore_trash (path, trashed) VALUES (?, ?) ON CONFLICT DO NOTHING", {f.path, now});
    db_->execute(delete_sql, {db_->uuid_value(id)});
  }
  txn.commit();
}

std::int64_t Registry::count_datasets(const std::string& run) {
  auto c = get_collection(run);
  if (c.type != CollectionType::kRun)
    throw CollectionTypeError(fmt::format("'{}' is a {} collection, not a RUN", run, collection_type_name(c.type)));
  return as_int(db_->query("SELECT COUNT(*) FROM dataset WHERE run_id = ?", {c.id}).rows.at(0).at(0));
}

void Registry::remove_run(const std::string& name) {
  Transaction txn(*db_, TransactionMode::kWrite);
  auto c = get_collection(name);
  if (c.type != CollectionType::kRun)
    throw CollectionTypeError(fmt::format("'{}' is a {} collection, not a RUN; use remove-collections", name,
                                          collection_type_name(c.type)));
  auto parents = chain_parents(name);
  if (!parents.empty())
    throw ConflictError(fmt::format("run '{}' is a child of chain(s) {}; remove it from them first", name,
                                    fmt::join(parents, ", ")));
  auto now = TaiTime::now().ns();
  db_->execute("INSERT INTO datastore_trash (path, trashed) SELECT DISTINCT r.path, CAST(? AS BIGINT) FROM datastore_record r JOIN dataset d "
               "ON d.dataset_id = r.dataset_id WHERE d.run_id = ? AND r.path NOT LIKE '/%' AND r.path NOT LIKE '%://%' "
               "ON CONFLICT DO NOTHING", {now, c.id});
  db_->execute("DELETE FROM dataset WHERE run_id = ?", {c.id});
  db_->execute("DELETE FROM collection WHERE collection_id = ?", {c.id});
  txn.commit();
}

// ---- datastore records

void Registry::insert_stored_files(const std::vector<StoredFile>& files) {
  if (files.empty()) return;
  Transaction txn(*db_, TransactionMode::kWrite);
  BulkInsert insert{"datastore_record",
                    {"dataset_id", "component", "path", "formatter", "storage_class", "checksum", "file_size"},
                    ""};
  Params rows;
  rows.reserve(files.size() * insert.columns.size());
  for (const auto& f : files)
    rows.insert(rows.end(), {db_->uuid_value(f.dataset_id), f.component, f.path, f.formatter, f.storage_class,
                             f.checksum ? SqlValue{*f.checksum} : SqlValue{},
                             f.file_size ? SqlValue{*f.file_size} : SqlValue{}});
  insert_rows_naming_conflicts(*db_, insert, rows, [&](std::size_t row, const std::string& what) {
    const auto& f = files[row];
    return fmt::format("cannot record file '{}' of dataset {}{}: {}", f.path, f.dataset_id.str(),
                       f.component.empty() ? "" : " component " + f.component, what);
  });
  txn.commit();
}

std::vector<StoredFile> Registry::stored_files(const Uuid& dataset_id) {
  std::vector<StoredFile> out;
  for (const auto& row : db_->query("SELECT component, path, formatter, storage_class, checksum, file_size FROM "
                                    "datastore_record WHERE dataset_id = ? ORDER BY component",
                                    {db_->uuid_value(dataset_id)}).rows) {
    StoredFile f;
    f.dataset_id = dataset_id;
    f.component = as_string(row[0]);
    f.path = as_string(row[1]);
    f.formatter = is_null(row[2]) ? "" : as_string(row[2]);
    f.storage_class = is_null(row[3]) ? "" : as_string(row[3]);
    if (!is_null(row[4])) f.checksum = as_string(row[4]);
    if (!is_null(row[5])) f.file_size = as_int(row[5]);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<std::string> Registry::trashed_paths() {
  std::vector<std::string> out;
  for (const auto& row : db_->query("SELECT path FROM datastore_trash ORDER BY path").rows) out.push_back(as_string(row[0]));
  return out;
}

void Registry::forget_trashed(const std::vector<std::string>& paths) {
  Transaction txn(*db_, TransactionMode::kWrite);
  for (const auto& p : paths) db_->execute("DELETE FROM datastore_trash WHERE path = ?", {p});
  txn.commit();
}

bool Registry::path_is_referenced(const std::string& path) {
  return !db_->query("SELECT 1 FROM datastore_record WHERE path = ? LIMIT 1", {path}).empty();
}

}  // namespace majordome::registry
