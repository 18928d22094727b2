// Private: the lock and journal a writing command holds (see butler.hpp on crash safety).
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

namespace majordome::butler {

// The journal format (docs/datastore.md): a first line naming the format and its version,
// then one line per datastore path, each a JSON string (so a path holding a newline, or
// any other character, is still exactly one entry). Paths are relative to the root.
inline constexpr std::string_view kJournalHeader = "majordome-write-journal 1";

// Holds an exclusive flock on <root>/.majordome/locks/<token>.lock while a write runs, and
// journals (in <token>.pending beside it, synced before any file is created) the datastore
// paths the write may create, so recovery can tell a live writer from a dead one and knows
// what a dead one may have left. Not thread-safe; one per write.
class WriteToken {
 public:
  explicit WriteToken(const std::filesystem::path& root);
  ~WriteToken();
  WriteToken(const WriteToken&) = delete;
  WriteToken& operator=(const WriteToken&) = delete;

  // Records paths (relative to the root) the writer is about to create; synced on return
  // unless `sync` is false (then the record survives the death of the process, not of the
  // machine: for files a writer has just made its own, e.g. by a MOVE on a server).
  void announce(const std::vector<std::string>& paths, bool sync = true);

  // Writes to a datastore on a server (see upload_files): before the first PUT, the pairs
  // (temporary, destination) it is about to send, synced; then, as each step is done,
  // put_done(temporary) once the temporary holds the whole file, and refused(destination)
  // when its MOVE failed (written before the temporary is deleted). Recovery of a dead writer
  // reads them so that it never deletes a file it cannot prove the writer made.
  void announce_remote(const std::vector<std::pair<std::string, std::string>>& temporary_destination);
  void put_done(const std::string& temporary);
  void refused(const std::string& destination);

 private:
  void append(const std::string& lines, bool sync);
  std::filesystem::path journal() const;
  std::filesystem::path lock_;
  bool journal_started_ = false;
  int fd_ = -1;
};

// True if the writer owning `lock` still runs (its flock is held).
bool writer_is_alive(const std::filesystem::path& lock);

// The paths a journal records. nullopt if the file is absent, unreadable or not in this
// format (e.g. written by an older majordome): its content is then never acted upon.
// A line that is not one JSON string (a torn write) is skipped.
std::optional<std::vector<std::string>> read_journal(const std::filesystem::path& journal);

// Everything a journal records: the paths to remove if unreferenced, and the remote steps.
struct JournalEntries {
  std::vector<std::string> paths;
  std::vector<std::pair<std::string, std::string>> remote;  // (temporary, destination)
  std::set<std::string> put_done, refused;
};
std::optional<JournalEntries> read_journal_entries(const std::filesystem::path& journal);

}  // namespace majordome::butler
