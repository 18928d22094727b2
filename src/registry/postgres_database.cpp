// PostgreSQL backend over libpq: `?` placeholders become $n, statements are prepared once
// per connection, blobs travel in binary, everything else as text.
#include <libpq-fe.h>

#include <charconv>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "majordome/core/error.hpp"
#include "majordome/core/redact.hpp"
#include "majordome/registry/database.hpp"

namespace majordome::registry {
namespace {

// Type OIDs from pg_type.h (stable across PostgreSQL versions).
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
              kFloat4Oid = 700, kFloat8Oid = 701, kNumericOid = 1700;

std::string to_dollar_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out.push_back(c);
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// `secrets` are the connection's credentials: libpq's messages may quote connection
// parameters, so they are scrubbed out of every message.
[[noreturn]] void raise_result(PGresult* res, PGconn* conn, std::string_view sql,
                               const std::vector<std::string>& secrets) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = scrub_secrets(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), secrets);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string code = state ? state : "";
  if (res) PQclear(res);
  if (code == "23505" || code == "23503" || code == "23P01" || code == "40001" || code == "40P01")
    throw ConflictError("database constraint violated or concurrent change: " + message);
  if (code == "42501") throw PermissionDeniedError("PostgreSQL refused: " + message);
  std::string context = sql.size() > 160 ? std::string(sql.substr(0, 160)) + "…" : std::string(sql);
  throw DatabaseError(fmt::format("PostgreSQL error {}: {} (in: {})", code, message, context));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

ResultSet read_result(PGresult* res) {
  ResultSet out;
  int ncols = PQnfields(res), nrows = PQntuples(res);
  for (int c = 0; c < ncols; ++c) out.columns.emplace_back(PQfname(res, c));
  out.rows.reserve(static_cast<std::size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    std::vector<SqlValue> row;
    row.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::monostate{});
        continue;
      }
      const char* text = PQgetvalue(res, r, c);
      int length = PQgetlength(res, r, c);
      switch (PQftype(res, c)) {
        case kInt8Oid:
        case kInt4Oid:
        case kInt2Oid: {
          std::int64_t v = 0;
          std::from_chars(text, text + length, v);
          row.emplace_back(v);
          break;
        }
        case kFloat4Oid:
        case kFloat8Oid:
        case kNumericOid: row.emplace_back(std::strtod(text, nullptr)); break;
        case kBoolOid: row.emplace_back(std::int64_t{text[0] == 't' ? 1 : 0}); break;
        case kByteaOid: {
          Blob b;
          if (length >= 2 && text[0] == '\\' && text[1] == 'x') {
            b.bytes.reserve(static_cast<std::size_t>((length - 2) / 2));
            for (int i = 2; i + 1 < length; i += 2)
              b.bytes.push_back(static_cast<std::uint8_t>(hex_digit(text[i]) << 4 | hex_digit(text[i + 1])));
          }
          row.emplace_back(std::move(b));
          break;
        }
        default: row.emplace_back(std::string(text, static_cast<std::size_t>(length)));
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

struct ParamBuffers {
  std::vector<std::string> text;
  std::vector<const char*> values;
  std::vector<int> lengths, formats;

  explicit ParamBuffers(const Params& params) {
    text.resize(params.size());
    values.resize(params.size());
    lengths.resize(params.size());
    formats.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      if (std::holds_alternative<std::monostate>(p)) {
        values[i] = nullptr;
      } else if (const auto* b = std::get_if<Blob>(&p)) {
        values[i] = reinterpret_cast<const char*>(b->bytes.data());
        lengths[i] = static_cast<int>(b->bytes.size());
        formats[i] = 1;
      } else {
        if (const auto* n = std::get_if<std::int64_t>(&p)) text[i] = std::to_string(*n);
        else if (const auto* d = std::get_if<double>(&p)) text[i] = fmt::format("{:.17g}", *d);
        else text[i] = std::get<std::string>(p);
        values[i] = text[i].c_str();
        lengths[i] = static_cast<int>(text[i].size());
      }
    }
  }
};

class PostgresDatabase;

class PostgresStatement final : public Statement {
 public:
  PostgresStatement(PGconn* conn, std::string name, std::string sql, std::int64_t* changes,
                    const std::vector<std::string>* secrets)
      : conn_(conn), name_(std::move(name)), sql_(std::move(sql)), changes_(changes), secrets_(secrets) {}
  void execute(const Params& params) override { PQclear(run(params)); }
  ResultSet query(const Params& params) override {
    PGresult* res = run(params);
    ResultSet out = read_result(res);
    PQclear(res);
    return out;
  }

 private:
  PGresult* run(const Params& params) {
    ParamBuffers buffers(params);
    PGresult* res = PQexecPrepared(conn_, name_.c_str(), static_cast<int>(params.size()),
                                   buffers.values.data(), buffers.lengths.data(),
                                   buffers.formats.data(), 0);
    auto status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) raise_result(res, conn_, sql_, *secrets_);
    const char* affected = PQcmdTuples(res);
    *changes_ = affected && *affected ? std::strtoll(affected, nullptr, 10) : 0;
    return res;
  }
  PGconn* conn_;
  std::string name_, sql_;
  std::int64_t* changes_;
  const std::vector<std::string>* secrets_;  // the database's
};

void ignore_notice(void*, const char*) {}

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(const PostgresOptions& options, bool create)
      : url_(options.url), libpq_url_(unambiguous_url(options.url)), schema_(options.namespace_) {
    // libpq only ever sees libpq_url_, so its messages can only quote that URL's secrets.
    secrets_ = url_secrets(libpq_url_);
    if (!options.password.empty()) secrets_.push_back(options.password);
    std::vector<const char*> keys{"dbname", "connect_timeout", "application_name"};
    std::vector<const char*> values{libpq_url_.c_str(), "10", "majordome"};
    if (!options.user.empty()) {
      keys.push_back("user");
      values.push_back(options.user.c_str());
    }
    if (!options.password.empty()) {
      keys.push_back("password");
      values.push_back(options.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    // A URL libpq cannot parse is a configuration error, not a database failure.
    char* parse_error = nullptr;
    if (PQconninfoOption* parsed = PQconninfoParse(libpq_url_.c_str(), &parse_error)) {
      PQconninfoFree(parsed);
    } else {
      std::string message = parse_error ? scrub_secrets(parse_error, secrets_) : "out of memory";
      if (parse_error) PQfreemem(parse_error);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      throw InvalidConfigError(fmt::format("registry.db {} is not a valid PostgreSQL URL: {} (the form is "
                                           "postgresql://[user@]host[:port]/database[?parameter=value&...])",
                                           redact_url(url_), message));
    }
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = scrub_secrets(PQerrorMessage(conn_), secrets_);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      PQfinish(conn_);
      conn_ = nullptr;
      throw DatabaseError(fmt::format("cannot connect to the registry ({}): {}", describe(), message));
    }
    // A constructor that throws runs no destructor: the connection is closed here then.
    try {
      PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
      execute_script("SET client_min_messages TO WARNING");
      if (!schema_.empty()) {
        if (create) execute_script("CREATE SCHEMA IF NOT EXISTS " + quote_identifier(schema_));
        else if (query("SELECT 1 FROM information_schema.schemata WHERE schema_name = ?", {schema_}).empty())
          throw NotFoundError(fmt::format("PostgreSQL schema '{}' does not exist in {}; create the "
                                          "repository first with 'butler create'", schema_, describe()));
        execute_script("SET search_path TO " + quote_identifier(schema_));
      }
    } catch (...) {
      cache_.clear();
      PQfinish(conn_);
      conn_ = nullptr;
      throw;
    }
  }
  ~PostgresDatabase() override {
    if (conn_) PQfinish(conn_);
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  void execute_script(std::string_view sql) override {
    PGresult* res = PQexec(conn_, std::string(sql).c_str());
    auto status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) raise_result(res, conn_, sql, secrets_);
    PQclear(res);
  }

  PostgresStatement& cached(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return *it->second;
    std::string name = "mj" + std::to_string(cache_.size());
    std::string text = to_dollar_placeholders(sql);
    PGresult* res = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) raise_result(res, conn_, sql, secrets_);
    PQclear(res);
    auto holder = std::make_unique<PostgresStatement>(conn_, name, std::string(sql), &changes_, &secrets_);
    auto& ref = *holder;
    cache_.emplace(std::string(sql), std::move(holder));
    return ref;
  }

  void execute(std::string_view sql, const Params& params) override { cached(sql).execute(params); }
  ResultSet query(std::string_view sql, const Params& params) override { return cached(sql).query(params); }
  std::unique_ptr<Statement> prepare(std::string_view sql) override {
    // Statements live in the connection's cache; the handle forwards to it.
    struct Forward final : Statement {
      PostgresStatement& s;
      explicit Forward(PostgresStatement& st) : s(st) {}
      void execute(const Params& p) override { s.execute(p); }
      ResultSet query(const Params& p) override { return s.query(p); }
    };
    return std::make_unique<Forward>(cached(sql));
  }
  std::int64_t changes() override { return changes_; }
  // The wire protocol counts parameters in 16 bits.
  std::size_t max_parameters() const override { return 65535; }

  void begin(TransactionMode) override {
    execute_script(depth_ == 0 ? std::string("BEGIN") : fmt::format("SAVEPOINT sp{}", depth_));
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
    execute_script(depth_ == 0 ? std::string("ROLLBACK") : fmt::format("ROLLBACK TO SAVEPOINT sp{}", depth_));
  }
  int transaction_depth() const override { return depth_; }

  std::string autoincrement_primary_key() const override { return "BIGSERIAL PRIMARY KEY"; }
  std::string blob_type() const override { return "BYTEA"; }
  std::string uuid_type() const override { return "UUID"; }
  SqlValue uuid_value(const Uuid& id) const override { return id.hex(); }
  Uuid uuid_from(const SqlValue& v) const override { return Uuid::get(as_string(v)); }
  bool table_exists(std::string_view table) override {
    return !query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                  "AND table_name = ?", {std::string(table)}).empty();
  }
  std::string describe() const override {
    return "PostgreSQL " + redact_url(url_) + (schema_.empty() ? "" : " schema " + schema_);
  }

 private:
  std::string url_;        // as configured; shown only through redact_url()
  std::string libpq_url_;  // what libpq is given
  std::string schema_;
  std::vector<std::string> secrets_;  // scrubbed out of every libpq message
  PGconn* conn_ = nullptr;
  int depth_ = 0;
  std::int64_t changes_ = 0;
  std::map<std::string, std::unique_ptr<PostgresStatement>, std::less<>> cache_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const PostgresOptions& options, bool create) {
  return std::make_unique<PostgresDatabase>(options, create);
}

}  // namespace majordome::registry
