#include "write_token.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "majordome/core/error.hpp"
#include "majordome/core/uuid.hpp"

namespace majordome::butler {

namespace fs = std::filesystem;

WriteToken::WriteToken(const fs::path& root) {
  fs::path dir = root / ".majordome" / "locks";
  fs::create_directories(dir);
  const std::string token = Uuid::v4().hex();
  lock_ = dir / (token + ".lock");
  // Locked before it gets its .lock name: recovery, which removes every unlocked .lock, can
  // never see it unlocked.
  fs::path fresh = dir / (token + ".new");
  fd_ = ::open(fresh.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
  if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0 || ::rename(fresh.c_str(), lock_.c_str()) != 0) {
    int err = errno;
    ::unlink(fresh.c_str());
    throw IoError(fmt::format("cannot create the write lock {}: {}", lock_.string(), std::strerror(err)));
  }
}

WriteToken::~WriteToken() {
  std::error_code ec;
  fs::remove(journal(), ec);
  fs::remove(lock_, ec);
  if (fd_ >= 0) ::close(fd_);
}

fs::path WriteToken::journal() const {
  fs::path p = lock_;
  return p.replace_extension(".pending");
}

void WriteToken::announce(const std::vector<std::string>& paths, bool sync) {
  std::string text;
  // dump() escapes control characters and replaces invalid UTF-8 rather than throwing;
  // a replaced byte can only make recovery miss a file, never point it at another one,
  // since recovery removes only paths it finds unreferenced inside the datastore.
  for (const auto& p : paths) text += nlohmann::json(p).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  append(text, sync);
}

namespace {

std::string object_line(const nlohmann::json& object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

void WriteToken::announce_remote(const std::vector<std::pair<std::string, std::string>>& temporary_destination) {
  std::string text;
  for (const auto& [t, d] : temporary_destination) text += object_line({{"via", t}, {"to", d}});
  append(text, true);
}

void WriteToken::put_done(const std::string& temporary) { append(object_line({{"put", temporary}}), false); }

void WriteToken::refused(const std::string& destination) { append(object_line({{"refused", destination}}), false); }

void WriteToken::append(const std::string& lines, bool sync) {
  std::string text;
  if (!journal_started_) text = std::string(kJournalHeader) + "\n";
  text += lines;
  int fd = ::open(journal().c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("cannot write {}: {}", journal().string(), std::strerror(errno)));
  ssize_t written = ::write(fd, text.data(), text.size());
  bool ok = written == static_cast<ssize_t>(text.size()) && (!sync || ::fsync(fd) == 0);
  ::close(fd);
  if (!ok) throw IoError(fmt::format("cannot write {}: {}", journal().string(), std::strerror(errno)));
  journal_started_ = true;
}

bool writer_is_alive(const fs::path& lock) {
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  bool alive = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return alive;
}

std::optional<JournalEntries> read_journal_entries(const fs::path& journal) {
  std::ifstream in(journal);
  if (!in) return std::nullopt;
  std::string line;
  if (!std::getline(in, line) || line != kJournalHeader) return std::nullopt;
  JournalEntries out;
  while (std::getline(in, line)) {
    auto value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    auto text = [&](const char* key) -> std::optional<std::string> {
      if (!value.is_object() || !value.contains(key) || !value[key].is_string()) return std::nullopt;
      return value[key].get<std::string>();
    };
    if (value.is_string()) {
      out.paths.push_back(value.get<std::string>());
    } else if (auto via = text("via"), to = text("to"); via && to) {
      out.remote.emplace_back(*via, *to);
    } else if (auto put = text("put")) {
      out.put_done.insert(*put);
    } else if (auto refused = text("refused")) {
      out.refused.insert(*refused);
    } else {
      spdlog::warn("{}: skipping a damaged journal line", journal.string());
    }
  }
  return out;
}

std::optional<std::vector<std::string>> read_journal(const fs::path& journal) {
  auto entries = read_journal_entries(journal);
  if (!entries) return std::nullopt;
  return entries->paths;
}

}  // namespace majordome::butler
