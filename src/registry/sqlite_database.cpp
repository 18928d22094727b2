// SQLite backend: WAL journal, foreign keys on, a busy timeout so concurrent writers wait
// instead of failing, BEGIN IMMEDIATE for write transactions, prepared-statement cache.
#include <sqlite3.h>

#include <map>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/registry/database.hpp"

namespace majordome::registry {
namespace {

[[noreturn]] void raise(sqlite3* db, int rc, std::string_view sql) {
  std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string context = sql.size() > 160 ? std::string(sql.substr(0, 160)) + "…" : std::string(sql);
  int primary = rc & 0xFF;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw BusyError("the repository database is locked by another process and the wait timed "
                    "out (" + message + "); retry when the other write has finished");
  if (primary == SQLITE_CONSTRAINT)
    throw ConflictError("database constraint violated: " + message);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    throw CorruptFileError("the SQLite registry file is damaged or not a database: " + message);
  if (primary == SQLITE_READONLY)
    throw PermissionDeniedError("the SQLite registry is read-only: " + message);
  throw DatabaseError(fmt::format("SQLite error: {} (in: {})", message, context));
}

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::string sql, bool owned)
      : db_(db), stmt_(stmt), sql_(std::move(sql)), owned_(owned) {}
  ~SqliteStatement() override {
    if (owned_) sqlite3_finalize(stmt_);
  }

  void bind(const Params& params) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt_))
      throw InternalError(fmt::format("SQL expects {} parameters, got {}: {}",
                                      sqlite3_bind_parameter_count(stmt_), params.size(), sql_));
    for (std::size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i) + 1;
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return sqlite3_bind_null(stmt_, index);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              return sqlite3_bind_int64(stmt_, index, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(stmt_, index, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
              return sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()),
                                       SQLITE_TRANSIENT);
            } else {
              return sqlite3_bind_blob(stmt_, index, v.bytes.data(), static_cast<int>(v.bytes.size()),
                                       SQLITE_TRANSIENT);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) raise(db_, rc, sql_);
    }
  }

  void execute(const Params& params) override {
    bind(params);
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) raise(db_, rc, sql_);
  }

  ResultSet query(const Params& params) override {
    bind(params);
    ResultSet out;
    int n = sqlite3_column_count(stmt_);
    for (int c = 0; c < n; ++c) out.columns.emplace_back(sqlite3_column_name(stmt_, c));
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
      std::vector<SqlValue> row;
      row.reserve(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(stmt_, c)) {
          case SQLITE_INTEGER: row.emplace_back(std::int64_t{sqlite3_column_int64(stmt_, c)}); break;
          case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(stmt_, c)); break;
          case SQLITE_TEXT:
            row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c)),
                                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c))));
            break;
          case SQLITE_BLOB: {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, c));
            row.emplace_back(Blob{std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(stmt_, c))});
            break;
          }
          default: row.emplace_back(std::monostate{});
        }
      }
      out.rows.push_back(std::move(row));
    }
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) raise(db_, rc, sql_);
    return out;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  bool owned_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, bool create, int busy_timeout_ms, bool read_only = false) : path_(std::move(path)) {
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | (create ? SQLITE_OPEN_CREATE : 0) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      if (!create && (rc & 0xFF) == SQLITE_CANTOPEN)
        throw NotFoundError(fmt::format("no registry database at {} ({}); is this a repository "
                                        "made with 'butler create'?", path_, message));
      throw DatabaseError(fmt::format("cannot open SQLite registry {}: {}", path_, message));
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    // Switching the journal mode writes to the file: a read-only database keeps its own.
    if (!read_only) execute_script("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  }

  ~SqliteDatabase() override {
    cache_.clear();
    for (auto& [sql, stmt] : raw_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  void execute_script(std::string_view sql) override {
    char* error = nullptr;
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error ? error : "";
      sqlite3_free(error);
      raise(db_, rc, message.empty() ? sql : std::string_view(message));
    }
  }

  SqliteStatement& cached(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return *it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) raise(db_, rc, sql);
    std::string key(sql);
    raw_[key] = stmt;
    auto holder = std::make_unique<SqliteStatement>(db_, stmt, key, false);
    auto& ref = *holder;
    cache_.emplace(key, std::move(holder));
    return ref;
  }

  void execute(std::string_view sql, const Params& params) override { cached(sql).execute(params); }
  ResultSet query(std::string_view sql, const Params& params) override {
    return cached(sql).query(params);
  }
  std::unique_ptr<Statement> prepare(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) raise(db_, rc, sql);
    return std::make_unique<SqliteStatement>(db_, stmt, std::string(sql), true);
  }
  std::int64_t changes() override { return sqlite3_changes64(db_); }
  std::size_t max_parameters() const override {
    return static_cast<std::size_t>(sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1));
  }

  void begin(TransactionMode mode) override {
    if (depth_ == 0) {
      execute_script(mode == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    } else {
      execute_script(fmt::format("SAVEPOINT sp{}", depth_));
    }
    ++depth_;
  }
  void commit() override {
    if (depth_ <= 0) throw InternalError("commit() without a transaction");
    --depth_;
    execute_script(depth_ == 0 ? std::string("COMMIT") : fmt::format("RELEASE SAVEPOINT sp{}", depth_));
  }
  void rollback() override {
    if (depth_ <= 0) throw InternalError("rollback() without a transaction");
    --depth_;
    if (depth_ == 0) {
      execute_script("ROLLBACK");
    } else {
      execute_script(fmt::format("ROLLBACK TO SAVEPOINT sp{}; RELEASE SAVEPOINT sp{}", depth_, depth_));
    }
  }
  int transaction_depth() const override { return depth_; }

  std::string autoincrement_primary_key() const override { return "INTEGER PRIMARY KEY AUTOINCREMENT"; }
  std::string blob_type() const override { return "BLOB"; }
  std::string uuid_type() const override { return "BLOB"; }
  SqlValue uuid_value(const Uuid& id) const override {
    return Blob{std::vector<std::uint8_t>(id.bytes().begin(), id.bytes().end())};
  }
  Uuid uuid_from(const SqlValue& v) const override {
    const auto* b = std::get_if<Blob>(&v);
    if (!b || b->bytes.size() != 16) throw InternalError("dataset id column does not hold 16 bytes");
    std::array<std::uint8_t, 16> bytes{};
    std::copy(b->bytes.begin(), b->bytes.end(), bytes.begin());
    return Uuid(bytes);
  }
  bool table_exists(std::string_view table) override {
    return !query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", {std::string(table)})
                .empty();
  }
  std::string describe() const override { return "SQLite file " + path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  int depth_ = 0;
  std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> cache_;
  std::map<std::string, sqlite3_stmt*> raw_;
};

}  // namespace

std::int64_t as_int(const SqlValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  throw InternalError("expected an integer column value");
}
double as_double(const SqlValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  throw InternalError("expected a floating-point column value");
}
const std::string& as_string(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  throw InternalError("expected a text column value");
}
bool is_null(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

std::unique_ptr<Database> open_sqlite(const std::string& path, bool create, int busy_timeout_ms) {
  return std::make_unique<SqliteDatabase>(path, create, busy_timeout_ms);
}

std::unique_ptr<Database> open_sqlite_read_only(const std::string& path) {
  return std::make_unique<SqliteDatabase>(path, false, 300000, true);
}

}  // namespace majordome::registry
