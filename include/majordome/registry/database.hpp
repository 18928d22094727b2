// A thin, portable layer over the SQL backends (SQLite and PostgreSQL).
//
// SQL text uses `?` placeholders on every backend; every user value is passed as a bound
// parameter, never pasted into SQL. A Database is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "majordome/core/uuid.hpp"

namespace majordome::registry {

struct Blob {
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const Blob&, const Blob&) = default;
};

using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;
using Params = std::vector<SqlValue>;

enum class Dialect { kSqlite, kPostgres };

// A fully read result: rows of values. Integers come back as int64 (booleans as 0/1),
// floats as double, text as string, blobs as Blob, NULL as monostate.
struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
  bool empty() const { return rows.empty(); }
  std::size_t size() const { return rows.size(); }
};

// Typed accessors that throw InternalError on a type mismatch.
std::int64_t as_int(const SqlValue& v);
double as_double(const SqlValue& v);
const std::string& as_string(const SqlValue& v);
bool is_null(const SqlValue& v);

// A statement prepared once and run many times (bulk inserts).
class Statement {
 public:
  virtual ~Statement() = default;
  virtual void execute(const Params& params) = 0;
  virtual ResultSet query(const Params& params) = 0;
};

enum class TransactionMode { kRead, kWrite };

// One bulk INSERT: `INSERT INTO <table> (<columns>) VALUES (…), (…) <suffix>`. Table and column
// names are SQL text as they appear in the statement (quoted where needed) and come from the
// schema, never from a user; the suffix is empty or an ON CONFLICT clause.
struct BulkInsert {
  std::string table;
  std::vector<std::string> columns;
  std::string suffix;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs one or more statements with no parameters (schema creation).
  virtual void execute_script(std::string_view sql) = 0;
  virtual void execute(std::string_view sql, const Params& params = {}) = 0;
  virtual ResultSet query(std::string_view sql, const Params& params = {}) = 0;
  virtual std::unique_ptr<Statement> prepare(std::string_view sql) = 0;
  // Number of rows changed by the last execute().
  virtual std::int64_t changes() = 0;

  // The most `?` parameters one statement may bind (65,535 on PostgreSQL, SQLite's limit).
  virtual std::size_t max_parameters() const = 0;
  // Inserts the rows of `values`, given row after row (insert.columns.size() values each), with
  // many rows per statement: up to kBulkRows, fewer when the parameter limit is lower, so a
  // row costs a fraction of a round trip to the server. Returns the number of rows inserted
  // or changed. An error ends the call with the rows of its earlier statements kept: run it
  // in a Transaction to undo them. ON CONFLICT DO UPDATE must not meet the same key twice in
  // one call: both rows may share a statement, which PostgreSQL refuses; callers remove such
  // duplicates.
  std::int64_t insert_rows(const BulkInsert& insert, const Params& values);
  static constexpr std::size_t kBulkRows = 1000;

  // Transactions nest: the outermost begins a transaction (a write transaction takes the
  // write lock at once on SQLite, so two writers never deadlock), inner ones are savepoints.
  virtual void begin(TransactionMode mode) = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual int transaction_depth() const = 0;

  // Backend-specific pieces of DDL and values.
  virtual std::string autoincrement_primary_key() const = 0;  // column definition suffix
  virtual std::string blob_type() const = 0;
  virtual std::string uuid_type() const = 0;
  virtual SqlValue uuid_value(const Uuid& id) const = 0;
  virtual Uuid uuid_from(const SqlValue& v) const = 0;
  virtual bool table_exists(std::string_view table) = 0;
  // A description for messages ("SQLite file /repo/gen3.sqlite3"), never with passwords.
  virtual std::string describe() const = 0;
};

// Opens (creating if needed) an SQLite database file with WAL, foreign keys and a busy
// timeout; `read_only` opens without creating.
std::unique_ptr<Database> open_sqlite(const std::string& path, bool create, int busy_timeout_ms = 300000);
// Opens an existing SQLite file for reading only: nothing is written to it, not even its
// journal mode (someone else's registry, read in place).
std::unique_ptr<Database> open_sqlite_read_only(const std::string& path);

struct PostgresOptions {
  std::string url;        // postgresql://[user[:password]@]host[:port]/database[?parameters]
  std::string namespace_; // schema; created when `create` is true
  std::string user, password;  // from the db-auth file when not in the URL
};
// Connects to PostgreSQL. A password holding '@' or '/' in the URL's userinfo is read as
// written (see unambiguous_url() in core/redact.hpp). Error messages and describe() show the
// URL through redact_url() and never contain a credential, whether from the URL or `options`.
std::unique_ptr<Database> open_postgres(const PostgresOptions& options, bool create);

// RAII transaction: rolls back unless commit() was called.
class Transaction {
 public:
  Transaction(Database& db, TransactionMode mode) : db_(db) { db_.begin(mode); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // The moved-from transaction no longer ends anything.
  Transaction(Transaction&& other) noexcept : db_(other.db_), done_(other.done_) { other.done_ = true; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (!done_) {
      try {
        db_.rollback();
      } catch (...) {  // a destructor must not throw; the connection reports it later
      }
    }
  }
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace majordome::registry
