// Streaming query results: rows are read from the database a page at a time and handed out
// one by one, so the first rows come before the whole result is read, and a limit (or a
// caller that stops asking) stops the reading.
//
//   query::Cursor cursor(registry, spec);
//   while (auto row = cursor.next()) use(*row);
//
// Rows come in the query's order, after the exact spatial tests, find-first, de-duplication,
// offset and limit, exactly as run_query() returns them (run_query is a Cursor read to the
// end). Paging: the first statement asks for `first_page` rows, each later one for `growth`
// times more; a later page starts after the last row read by its order key (keyset paging),
// or by OFFSET when an ORDER BY item may be NULL. A plan whose LIMIT can be applied in SQL
// never asks for more rows than the limit needs.
//
// Consistency: each page is its own statement. Rows written by others while a cursor is open
// may or may not appear; with keyset paging none is repeated or skipped. Callers that need
// one snapshot open a read Transaction around the cursor.
//
// Ownership and threads: a Cursor refers to its Registry, which must outlive it, and is used
// by one thread at a time, like the Registry's Database. Between two next() calls the caller
// may run other queries on the same registry.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "majordome/query/plan.hpp"
#include "majordome/query/query.hpp"

namespace majordome::query {

struct CursorOptions {
  std::int64_t first_page = 256;  // rows asked of the first statement
  std::int64_t growth = 16;       // each later page asks for this many times more
  // Everything in one statement (bounded by the limit when SQL applies it): for callers that
  // read the whole result anyway, as run_query does when nothing is dropped after SQL.
  bool one_statement = false;
  // Rows need not come in the query's order: only for plans whose limit applies in SQL
  // (LogicalPlan::limit_in_sql), read in one statement. Probes asking whether a row exists.
  bool unordered = false;
};

class Cursor {
 public:
  // Plans the query (throws as run_query does); reads nothing yet.
  Cursor(registry::Registry& registry, const QuerySpec& spec, CursorOptions options = {});
  // Executes an existing plan (made by plan_query on the same registry).
  Cursor(registry::Registry& registry, LogicalPlan plan, CursorOptions options = {});
  ~Cursor();
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;

  // The next row, or nothing at the end of the result or at the limit.
  std::optional<ResultRow> next();
  // After next() returned nothing: whether it stopped at the limit with more rows beyond it
  // (next() looks one row ahead only when asked for a row past the limit). False when the
  // query has no limit.
  bool more();

  const LogicalPlan& plan() const;
  const dimensions::DimensionGroup& dimensions() const { return plan().dimensions; }

  // What the cursor did so far, for tests and benchmarks.
  std::size_t statements() const;     // SQL statements run
  std::size_t rows_read() const;      // rows read from the database
  std::size_t candidates() const;     // rows read that went through the exact spatial tests

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Why `spec` found no row, once `cursor` (made from `spec`) has returned nothing: each reason
// is found by a cheap probe (a constraint alone, the collections' summaries, LIMIT 1).
std::vector<EmptyReason> explain_empty(registry::Registry& registry, const QuerySpec& spec, const Cursor& cursor);

}  // namespace majordome::query
