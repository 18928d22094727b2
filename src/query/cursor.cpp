// Execution: a plan's statement read in pages, then the exact region tests, find-first,
// de-duplication, offset and limit, row by row.
#include "majordome/query/cursor.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "majordome/core/error.hpp"
#include "majordome/sphere/htm_pixelization.hpp"
#include "majordome/sphere/region.hpp"

namespace majordome::query {

using registry::SqlValue;
using Row = std::vector<SqlValue>;

class Cursor::Impl {
 public:
  Impl(registry::Registry& reg, LogicalPlan plan, CursorOptions options)
      : reg_(reg), plan_(std::move(plan)), options_(options), in_sql_(plan_.limit_in_sql()),
        keyset_(keyset_pageable(plan_)), page_size_(std::max<std::int64_t>(1, options.first_page)) {
    if (options_.unordered && !in_sql_) options_.unordered = false;  // pages need an order
    if (plan_.datasets && plan_.datasets->find_first) {
      for (std::size_t i = 0; i < plan_.datasets->collections.size(); ++i) rank_.emplace(plan_.datasets->collections[i].id, i);
      // Rows of one data ID are adjacent unless the order puts a dataset field before the
      // data ID: then find-first needs every row first.
      buffered_find_first_ = !plan_.grouped_by_data_id;
    }
    if (!plan_.records_of.empty()) records_ = &reg_.universe().get(plan_.records_of);
    if (plan_.datasets)
      for (const auto& c : plan_.datasets->collections) collection_names_.emplace(c.id, c.name);
  }

  std::optional<ResultRow> next();
  bool more() const { return more_; }

  registry::Registry& reg_;
  LogicalPlan plan_;
  CursorOptions options_;
  const bool in_sql_;   // LIMIT and OFFSET are applied by the database
  const bool keyset_;   // later pages start after the last row's order key
  std::int64_t page_size_;
  std::size_t statements_ = 0, rows_read_ = 0, candidates_ = 0;

 private:
  std::optional<Row> next_sql_row();
  std::optional<Row> next_spatial_row();
  std::optional<Row> next_found_row();
  bool passes_spatial(const Row& row);
  const Row& find_first_winner(const std::vector<Row>& group);
  std::vector<std::string> key_text(const Row& row) const;
  ResultRow make_row(const Row& row, std::string& key) const;
  void fetch_page();

  registry::ResultSet page_;
  std::size_t position_ = 0;
  bool sql_done_ = false;
  Row last_;  // the last row of the last page (keyset paging)
  std::unordered_map<std::string, std::shared_ptr<const sphere::Region>> regions_;
  std::map<std::int64_t, std::size_t> rank_;  // collection id → rank in the search
  std::unordered_map<std::int64_t, std::string> collection_names_;
  bool buffered_find_first_ = false;
  bool buffered_ready_ = false;
  std::deque<Row> buffered_;
  std::vector<Row> group_;  // rows of the data ID being read (streaming find-first)
  std::set<std::string> seen_;
  const dimensions::DimensionElement* records_ = nullptr;
  std::int64_t skipped_ = 0, emitted_ = 0;
  bool done_ = false, more_ = false;
};

void Cursor::Impl::fetch_page() {
  SqlPage page;
  page.ordered = !options_.unordered;
  // The rows SQL must give at most: with the limit in SQL, one more than the limit (to know
  // whether more exist).
  std::int64_t quota = in_sql_ && plan_.limit > 0 ? plan_.limit + 1 - static_cast<std::int64_t>(rows_read_) : 0;
  if (in_sql_ && plan_.limit > 0 && quota <= 0) {
    sql_done_ = true;
    return;
  }
  const bool one = options_.one_statement || options_.unordered;
  std::int64_t size = one ? quota : (quota > 0 ? std::min(page_size_, quota) : page_size_);
  page.limit = size;
  const std::int64_t base_offset = in_sql_ ? plan_.offset : 0;
  if (statements_ > 0 && keyset_ && !last_.empty()) {
    page.after = &last_;
  } else {
    page.offset = base_offset + static_cast<std::int64_t>(rows_read_);
  }
  auto statement = plan_sql(plan_, registry::sql_database(reg_).dialect(), page);
  page_ = registry::sql_database(reg_).query(statement.sql, statement.params);
  position_ = 0;
  ++statements_;
  rows_read_ += page_.rows.size();
  if (one || size == 0 || static_cast<std::int64_t>(page_.rows.size()) < size) sql_done_ = true;
  if (!page_.rows.empty() && keyset_) last_ = page_.rows.back();
  page_size_ = std::min<std::int64_t>(page_size_ * std::max<std::int64_t>(1, options_.growth), std::int64_t{1} << 40);
}

std::optional<Row> Cursor::Impl::next_sql_row() {
  while (position_ >= page_.rows.size()) {
    if (sql_done_) return std::nullopt;
    fetch_page();
  }
  return std::move(page_.rows[position_++]);
}

bool Cursor::Impl::passes_spatial(const Row& row) {
  auto decode = [&](const SqlValue& v) -> std::shared_ptr<const sphere::Region> {
    const auto* blob = std::get_if<registry::Blob>(&v);
    if (!blob || blob->bytes.empty()) return nullptr;
    std::string key(blob->bytes.begin(), blob->bytes.end());
    auto it = regions_.find(key);
    if (it == regions_.end()) {
      if (regions_.size() > 100'000) regions_.clear();  // bounds memory on long results
      it = regions_.emplace(key, std::shared_ptr<const sphere::Region>(sphere::Region::decode(blob->bytes))).first;
    }
    return it->second;
  };
  auto operand = [&](const RegionOperand& o) -> std::shared_ptr<const sphere::Region> {
    switch (o.kind) {
      case RegionOperand::Kind::kConstant: return o.constant;
      case RegionOperand::Kind::kColumn: return decode(row[o.column]);
      case RegionOperand::Kind::kPixel:
        return std::make_shared<sphere::ConvexPolygon>(
            sphere::HtmPixelization::triangle(static_cast<std::uint64_t>(registry::as_int(row[o.column]))));
    }
    return nullptr;
  };
  for (const auto& t : plan_.spatial_filters) {
    auto a = operand(t.a), b = operand(t.b);
    if (!a || !b) return false;  // a record without a region relates to nothing
    auto o = a->overlaps(*b);
    if (o && !*o) return false;
  }
  return true;
}

std::optional<Row> Cursor::Impl::next_spatial_row() {
  while (auto row = next_sql_row()) {
    if (plan_.spatial_filters.empty()) return row;
    ++candidates_;
    if (passes_spatial(*row)) return row;
  }
  return std::nullopt;
}

std::vector<std::string> Cursor::Impl::key_text(const Row& row) const {
  std::vector<std::string> key;
  for (auto c : plan_.columns.required) {
    const auto& v = row[c];
    key.push_back(std::holds_alternative<std::int64_t>(v) ? std::to_string(std::get<std::int64_t>(v)) : registry::as_string(v));
  }
  return key;
}

// Find-first among the rows of one data ID: the dataset of the earliest collection. Two
// different datasets in that collection (overlapping validity ranges) are an error.
const Row& Cursor::Impl::find_first_winner(const std::vector<Row>& group) {
  const auto& col = plan_.columns;
  auto rank_of = [&](const Row& r) { return rank_.at(registry::as_int(r[col.collection])); };
  std::size_t best = 0;
  for (std::size_t i = 1; i < group.size(); ++i)
    if (rank_of(group[i]) < rank_of(group[best])) best = i;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (i == best || rank_of(group[i]) != rank_of(group[best])) continue;
    if (!(registry::sql_database(reg_).uuid_from(group[i][col.dataset_id]) == registry::sql_database(reg_).uuid_from(group[best][col.dataset_id])))
      throw ConflictError(fmt::format("more than one '{}' dataset matches {} in collection '{}' (overlapping "
                                      "calibration validity ranges?); narrow the query",
                                      plan_.datasets->type.name, fmt::join(key_text(group[i]), ", "),
                                      plan_.datasets->collections[rank_of(group[i])].name));
  }
  return group[best];
}

std::optional<Row> Cursor::Impl::next_found_row() {
  if (!plan_.datasets || !plan_.datasets->find_first) return next_spatial_row();
  const auto& required = plan_.columns.required;
  auto same_data_id = [&](const Row& a, const Row& b) {
    for (auto c : required)
      if (!(a[c] == b[c])) return false;
    return true;
  };
  if (buffered_find_first_) {
    if (!buffered_ready_) {
      // Every row first; winners in the order each data ID first appears.
      std::vector<Row> rows;
      while (auto r = next_spatial_row()) rows.push_back(std::move(*r));
      std::map<std::vector<std::string>, std::vector<Row>> groups;
      std::vector<std::vector<std::string>> first_seen;
      for (auto& r : rows) {
        auto key = key_text(r);
        auto [it, added] = groups.try_emplace(key);
        if (added) first_seen.push_back(key);
        it->second.push_back(std::move(r));
      }
      for (const auto& key : first_seen) buffered_.push_back(find_first_winner(groups.at(key)));
      buffered_ready_ = true;
    }
    if (buffered_.empty()) return std::nullopt;
    Row r = std::move(buffered_.front());
    buffered_.pop_front();
    return r;
  }
  while (auto r = next_spatial_row()) {
    if (group_.empty() || same_data_id(group_.front(), *r)) {
      group_.push_back(std::move(*r));
      continue;
    }
    Row winner = find_first_winner(group_);
    group_.clear();
    group_.push_back(std::move(*r));
    return winner;
  }
  if (group_.empty()) return std::nullopt;
  Row winner = find_first_winner(group_);
  group_.clear();
  return winner;
}

ResultRow Cursor::Impl::make_row(const Row& row, std::string& key) const {
  ResultRow r;
  const auto& col = plan_.columns;
  const auto& req = plan_.dimensions.required();
  for (std::size_t i = 0; i < req.size(); ++i) r.data_id[req[i]] = registry::data_id_value_from_sql(row[col.required[i]]);
  for (const auto& [d, c] : col.implied)
    if (!registry::is_null(row[c])) r.data_id[d] = registry::data_id_value_from_sql(row[c]);
  key.clear();
  if (plan_.datasets) {
    const auto& type = plan_.datasets->type;
    Uuid id = registry::sql_database(reg_).uuid_from(row[col.dataset_id]);
    if (plan_.dedupe) key = id.str() + "/" + std::to_string(registry::as_int(row[col.collection]));
    registry::DatasetRef ref;
    ref.id = id;
    ref.dataset_type = type.name;
    ref.run = col.run_from_collection ? collection_names_.at(registry::as_int(row[col.collection]))
                                      : registry::as_string(row[col.run]);
    for (const auto& d : type.dimensions.required())
      if (auto it = r.data_id.find(d); it != r.data_id.end()) ref.data_id[d] = it->second;
    for (const auto& [d, c] : col.dataset_implied) ref.data_id[d] = registry::data_id_value_from_sql(row[c]);
    for (const auto& d : type.dimensions.implied())
      if (auto it = r.data_id.find(d); it != r.data_id.end()) ref.data_id.emplace(d, it->second);
    r.dataset = std::move(ref);
  }
  if (records_) {
    std::vector<dimensions::FieldValue> values;
    if (records_->has_table()) {
      std::size_t column = col.record_start;
      for (const auto& f : records_->record_fields()) values.push_back(registry::field_from_sql(f, row, column));
    } else if (records_->name() == "band") {
      values.emplace_back(registry::as_string(row[col.band]));
    } else {  // a sky pixel: its id
      values.emplace_back(std::get<std::int64_t>(r.data_id.at(records_->name())));
      for (std::size_t i = 1; i < records_->record_fields().size(); ++i) values.emplace_back(std::monostate{});
    }
    r.record.emplace(*records_, std::move(values));
    key = dimensions::format_data_id(r.record->data_id(), records_->required());
  } else if (!col.data_id_key.empty()) {
    key.clear();
    for (auto i : col.data_id_key) key += dimensions::to_string(r.data_id.at(req[i])) + "\x1f";
  }
  return r;
}

std::optional<ResultRow> Cursor::Impl::next() {
  if (done_) return std::nullopt;
  std::string key;
  while (auto row = next_found_row()) {
    ResultRow r = make_row(*row, key);
    if (plan_.dedupe && !key.empty() && !seen_.insert(key).second) continue;
    if (!in_sql_ && skipped_ < plan_.offset) {
      ++skipped_;
      continue;
    }
    if (plan_.limit > 0 && emitted_ == plan_.limit) {
      more_ = true;
      done_ = true;
      return std::nullopt;
    }
    ++emitted_;
    return r;
  }
  done_ = true;
  return std::nullopt;
}

Cursor::Cursor(registry::Registry& registry, const QuerySpec& spec, CursorOptions options)
    : Cursor(registry, plan_query(registry, spec), options) {}

Cursor::Cursor(registry::Registry& registry, LogicalPlan plan, CursorOptions options)
    : impl_(std::make_unique<Impl>(registry, std::move(plan), options)) {}

Cursor::~Cursor() = default;
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;

std::optional<ResultRow> Cursor::next() { return impl_->next(); }
bool Cursor::more() { return impl_->more(); }
const LogicalPlan& Cursor::plan() const { return impl_->plan_; }
std::size_t Cursor::statements() const { return impl_->statements_; }
std::size_t Cursor::rows_read() const { return impl_->rows_read_; }
std::size_t Cursor::candidates() const { return impl_->candidates_; }

}  // namespace majordome::query
