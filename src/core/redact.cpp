#include "majordome/core/redact.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace majordome {
namespace {

constexpr auto npos = std::string_view::npos;

// [begin, end) in the text being redacted.
using Span = std::pair<std::size_t, std::size_t>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as libpq does it; a malformed escape is kept as written (libpq refuses
// the URL, quoting the raw text, which url_secrets() also lists).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t find_in(std::string_view text, char c, std::size_t from, std::size_t to) {
  auto pos = text.find(c, from);
  return pos < to ? pos : npos;
}

// The last `c` in [from, to), or npos.
std::size_t rfind_in(std::string_view text, char c, std::size_t from, std::size_t to) {
  for (std::size_t i = std::min(to, text.size()); i > from; --i)
    if (text[i - 1] == c) return i - 1;
  return npos;
}

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '%';
}

bool ipv6_char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.' || c == '%'; }

// Whether `authority` reads as a host list: host[:port] or [v6][:port], comma-separated,
// host names of letters, digits, '.', '-', '_' or percent escapes, every port a number.
bool plausible_hosts(std::string_view authority) {
  auto digits = [](std::string_view port) {
    return std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::size_t start = 0;
  while (true) {
    auto comma = authority.find(',', start);
    auto host = authority.substr(start, comma == npos ? npos : comma - start);
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
      auto close = host.find(']');
      if (close == npos) return false;
      auto address = host.substr(1, close - 1);
      if (!std::all_of(address.begin(), address.end(), ipv6_char)) return false;
      auto after = host.substr(close + 1);
      if (!after.empty() && after.front() != ':') return false;
      port = after.empty() ? after : after.substr(1);
    } else {
      auto colon = host.find(':');
      auto name = host.substr(0, colon);
      if (!std::all_of(name.begin(), name.end(), host_char)) return false;
      if (colon != npos) port = host.substr(colon + 1);
    }
    if (!digits(port)) return false;
    if (comma == npos) return true;
    start = comma + 1;
  }
}

// Whether `text` starts with `name=`, a name being letters, digits, '_', '.', '-' or
// percent escapes.
bool starts_parameter(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && host_char(text[n])) ++n;
  return n > 0 && n < text.size() && text[n] == '=';
}

// Whether a query string (after its '?') reads as `name=value` pairs joined by '&'.
bool plausible_query(std::string_view query) {
  if (query.empty()) return true;
  for (std::size_t start = 0;;) {
    auto amp = query.find('&', start);
    if (!starts_parameter(query.substr(start, amp == npos ? npos : amp - start))) return false;
    if (amp == npos) return true;
    start = amp + 1;
  }
}

// Whether the URL makes sense when its userinfo ends at `at` (npos: no userinfo): a user
// name without '?', a plausible host list, a path (the database name) that does not hold
// both '@' and '/', a plausible query string.
bool plausible_reading(std::string_view url, std::size_t rest, std::size_t at) {
  auto host_begin = rest;
  if (at != npos) {
    auto user = url.substr(rest, at - rest);
    user = user.substr(0, user.find(':'));
    if (user.find('?') != npos) return false;
    host_begin = at + 1;
  }
  auto host_end = url.find_first_of("/?", host_begin);
  if (!plausible_hosts(url.substr(host_begin, host_end == npos ? npos : host_end - host_begin))) return false;
  if (host_end == npos) return true;
  auto question = url.find('?', host_end);
  auto path = url.substr(host_end, question == npos ? npos : question - host_end);
  if (path.find('@') != npos && path.find('/', 1) != npos) return false;
  return question == npos || plausible_query(url.substr(question + 1));
}

// How one URL is read. `rest` is where the part after "scheme://" starts. Each *_at is the
// '@' ending the userinfo under one reading (npos: no userinfo):
//   libpq_at     libpq's: the first '@' if it comes before the first '/';
//   intended_at  what the user most likely meant, which unambiguous_url() makes libpq read:
//                the first reading that makes sense (plausible_reading()) trying libpq's,
//                then none (in the other order when a '?' comes before libpq's '@'), then
//                each '@' in turn; libpq's if none does. So `alice:p@ss@h` and
//                `alice:pa/ss@h` end at the second '@' (libpq would read host "ss@h", or
//                host "alice" with port "pa"), `h:5432?password=p@ss` has no userinfo;
//   greedy_at    the last '@' before the query string, as if the password could hold
//                anything; the query string starts where a '?' is followed by a `name=`
//                (a '?' without one may be part of a password).
struct UrlReading {
  std::size_t rest = npos;
  std::size_t libpq_at = npos, intended_at = npos, greedy_at = npos;
};

UrlReading read_url(std::string_view url) {
  UrlReading r;
  auto scheme = url.find("://");
  if (scheme == npos) return r;
  r.rest = scheme + 3;
  if (r.rest >= url.size() || url[r.rest] == '/') return r;  // no authority, so no userinfo
  auto first_at = url.find('@', r.rest);
  if (first_at == npos) return r;
  if (first_at < url.find('/', r.rest)) r.libpq_at = first_at;
  auto first_question = url.find('?', r.rest);
  auto query_equals = first_question == npos ? npos : url.find('=', first_question);
  r.greedy_at = rfind_in(url, '@', r.rest, query_equals);
  std::vector<std::size_t> candidates{r.libpq_at};
  if (r.libpq_at != npos) {
    // `host:5432?password=p@ss`: a '?' before libpq's '@' more likely starts a query.
    bool question_first = url.find('?', r.rest) < r.libpq_at;
    candidates.insert(question_first ? candidates.begin() : candidates.end(), npos);
  }
  for (auto at = first_at; at != npos; at = url.find('@', at + 1))
    if (at != r.libpq_at) candidates.push_back(at);
  r.intended_at = r.libpq_at;
  for (auto at : candidates) {
    if (plausible_reading(url, r.rest, at)) {
      r.intended_at = at;
      break;
    }
  }
  return r;
}

// The password span of the userinfo ending at `at`: from its first ':' to `at`.
std::optional<Span> password_span(std::string_view url, std::size_t rest, std::size_t at) {
  if (at == npos) return std::nullopt;
  auto colon = find_in(url, ':', rest, at);
  if (colon == npos) return std::nullopt;
  return Span{colon + 1, at};
}

struct Found {
  std::vector<Span> spans;           // to mask
  std::vector<std::string> secrets;  // each value as written and decoded
  bool has_password = false;
};

void add_secret(Found& found, std::string value) {
  if (!value.empty() && std::find(found.secrets.begin(), found.secrets.end(), value) == found.secrets.end())
    found.secrets.push_back(std::move(value));
}

Found find_in_url(std::string_view url) {
  Found found;
  auto r = read_url(url);
  if (r.rest == npos) return found;
  std::size_t widest = npos;
  if (auto span = password_span(url, r.rest, r.intended_at); span && span->first < span->second)
    found.has_password = true;
  for (auto at : {r.libpq_at, r.intended_at, r.greedy_at}) {
    auto span = password_span(url, r.rest, at);
    if (!span || span->first == span->second) continue;
    auto raw = url.substr(span->first, span->second - span->first);
    add_secret(found, std::string(raw));
    add_secret(found, percent_decode(raw));
    if (widest == npos || at > widest) widest = at;
  }
  if (auto span = password_span(url, r.rest, widest); span) found.spans.push_back(*span);
  // Query parameters: every '?' or '&' may start one, wherever it is, since a '?' may
  // belong to a password and an '@' to a query value.
  for (auto i = url.find_first_of("?&", r.rest); i != npos; i = url.find_first_of("?&", i + 1)) {
    auto name_end = url.find_first_of("=&", i + 1);
    if (name_end == npos || url[name_end] != '=') continue;
    auto name = percent_decode(url.substr(i + 1, name_end - i - 1));
    if (!is_secret_name(name)) continue;
    // A value ends at the '&' that starts the next `name=`: an unencoded '&' followed by
    // anything else is taken as part of the value (libpq refuses it, quoting what follows).
    auto value_end = url.find('&', name_end + 1);
    while (value_end != npos && !starts_parameter(url.substr(value_end + 1)))
      value_end = url.find('&', value_end + 1);
    if (value_end == npos) value_end = url.size();
    if (value_end == name_end + 1) continue;
    found.spans.emplace_back(name_end + 1, value_end);
    auto raw = url.substr(name_end + 1, value_end - name_end - 1);
    add_secret(found, std::string(raw));
    add_secret(found, percent_decode(raw));
    if (raw.find('&') != npos) {  // libpq reads the pieces apart
      std::size_t start = 0;
      for (auto amp = raw.find('&'); amp != npos; start = amp + 1, amp = raw.find('&', start))
        add_secret(found, std::string(raw.substr(start, amp - start)));
      add_secret(found, std::string(raw.substr(start)));
    }
    if (name == "password") found.has_password = true;
  }
  return found;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A libpq key=value connection string: `host=h password='it\'s' dbname = x`. Values are
// bare words or single-quoted, with backslash escapes in both. Words without '=' are
// skipped (libpq would refuse them, quoting the rest of the string).
Found find_in_conninfo(std::string_view text) {
  Found found;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    auto name_begin = i;
    while (i < text.size() && text[i] != '=' && !is_space(text[i])) ++i;
    auto name = text.substr(name_begin, i - name_begin);
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size() || text[i] != '=') continue;
    ++i;
    while (i < text.size() && is_space(text[i])) ++i;
    auto value_begin = i;
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i]);
      }
      if (i < text.size()) ++i;  // the closing quote
    } else {
      for (; i < text.size() && !is_space(text[i]); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i]);
      }
    }
    if (!is_secret_name(name) || i == value_begin) continue;
    found.spans.emplace_back(value_begin, i);
    add_secret(found, std::string(text.substr(value_begin, i - value_begin)));
    add_secret(found, value);
    if (name == "password" && !value.empty()) found.has_password = true;
  }
  return found;
}

Found find_secrets(std::string_view text) {
  if (text.find("://") != npos) return find_in_url(text);
  if (text.find('=') != npos) return find_in_conninfo(text);
  return {};
}

// `text` with each span (merged where they overlap or touch) replaced by ***.
std::string mask(std::string_view text, std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end());
  std::string out;
  std::size_t done = 0;
  for (std::size_t k = 0; k < spans.size();) {
    auto [begin, end] = spans[k];
    for (++k; k < spans.size() && spans[k].first <= end; ++k) end = std::max(end, spans[k].second);
    out.append(text.substr(done, begin - done));
    out.append(kRedacted);
    done = end;
  }
  out.append(text.substr(done));
  return out;
}

std::string percent_encode(std::string_view text, std::string_view chars) {
  std::string out;
  for (char c : text) {
    if (chars.find(c) == npos) out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

}  // namespace

bool is_secret_name(std::string_view name) {
  auto lower = lowercase(percent_decode(name));
  for (std::string_view word : {"pass", "pwd", "secret", "token", "key", "cred"})
    if (lower.find(word) != npos) return true;
  return false;
}

std::string redact_url(std::string_view url) { return mask(url, find_secrets(url).spans); }

std::vector<std::string> url_secrets(std::string_view url) { return find_secrets(url).secrets; }

std::string scrub_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<Span> spans;
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = text.find(secret); pos != npos; pos = text.find(secret, pos + 1))
      spans.emplace_back(pos, pos + secret.size());
  }
  return mask(text, std::move(spans));
}

bool url_has_password(std::string_view url) { return find_secrets(url).has_password; }

std::string unambiguous_url(std::string_view url) {
  auto r = read_url(url);
  if (r.rest == npos || r.intended_at == r.libpq_at) return std::string(url);
  // libpq splits at the wrong place: encode every '@' but the one ending the userinfo, and
  // every '/' in the userinfo. libpq decodes all of them back.
  std::string out(url.substr(0, r.rest));
  auto after = r.rest;
  if (r.intended_at != npos) {
    out += percent_encode(url.substr(r.rest, r.intended_at - r.rest), "@/");
    out += '@';
    after = r.intended_at + 1;
  }
  out += percent_encode(url.substr(after), "@");
  return out;
}

void redact_config(YAML::Node node) {
  if (node.IsMap()) {
    for (auto entry : node) {
      YAML::Node value = entry.second;
      bool secret = entry.first.IsScalar() && is_secret_name(entry.first.Scalar());
      if (secret && value.IsScalar()) {
        value = std::string(kRedacted);
      } else if (secret && value.IsSequence()) {
        for (std::size_t i = 0; i < value.size(); ++i)
          if (value[i].IsScalar()) value[i] = std::string(kRedacted);
        redact_config(value);
      } else {
        redact_config(value);
      }
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) redact_config(node[i]);
  } else if (node.IsScalar()) {
    auto shown = redact_url(node.Scalar());
    if (shown != node.Scalar()) node = shown;
  }
}

}  // namespace majordome
