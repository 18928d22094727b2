// Keeping credentials out of what majordome prints.
//
// A database URL may carry secrets in its userinfo (`postgresql://user:PASSWORD@host/db`)
// or in query parameters (`?password=…`, `sslpassword=…`, `sslkey=…`: any parameter whose
// name, percent-decoded, contains pass, pwd, secret, token, key or cred). libpq also
// accepts key=value connection strings (`host=h password='x y'`). Everything that prints a
// URL goes through redact_url(); every message that may echo part of one (libpq's errors
// quote the URL, a host name or an option value) goes through scrub_secrets() with the
// URL's url_secrets().
//
// How a URL is read. The userinfo ends at an '@': libpq takes the first '@' before the
// first '/', but a password may itself hold '@' or '/' (`alice:p@ss@host`,
// `alice:pa/ss@host`). Redaction masks the password under every such reading, so an
// ambiguous URL may show more `***` than needed (`postgresql://host:5432/my@db` shows
// `host:***@db`) but not the password under any reading. unambiguous_url() rewrites the
// URLs libpq would misread (into a host name holding '@', a port that is not a number…) so
// that the database is given the password the user wrote. Some text cannot be told apart
// and is read as libpq reads it: an unencoded '&' followed by `name=` inside a query value
// ends the value; `alice:p@ss/w@host` is host "ss" and database "w@host".
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace majordome {

// What replaces a secret in printed text.
inline constexpr std::string_view kRedacted = "***";

// Whether a URL query parameter, conninfo keyword or configuration key names a secret
// (case-insensitive; `name` as written, percent-encoded or not).
bool is_secret_name(std::string_view name);

// `url` with every credential replaced by ***: the userinfo password and the value of every
// secret-named query parameter, or of every secret-named keyword of a key=value connection
// string. The user name, host, port, database and other parameters are kept. Text that is
// neither a URL (`scheme://…`) nor a connection string comes back unchanged.
std::string redact_url(std::string_view url);

// The secret values `url` carries (what redact_url() masks), each both as written and
// percent-decoded (or unquoted, for a connection string); no empty values, no duplicates.
std::vector<std::string> url_secrets(std::string_view url);

// `text` with every occurrence of each of `secrets` replaced by ***. Occurrences are found
// in the original text, so overlapping secrets are masked as one span.
std::string scrub_secrets(std::string_view text, const std::vector<std::string>& secrets);

// Whether `url` carries a password: a non-empty `password=` parameter, or a non-empty
// userinfo password as unambiguous_url() has libpq read it (an over-masked reading does not
// count).
bool url_has_password(std::string_view url);

// `url` as libpq should be given it: when libpq's reading of the userinfo makes no sense
// (a host name holding '@' or other characters no host has, a port that is not a number, a
// database name holding '@' and '/', a query string that is not name=value pairs) and
// another '@' gives one that does, '@' and '/' in that userinfo and every later '@' are
// percent-encoded (libpq decodes them). Any other URL comes back unchanged.
std::string unambiguous_url(std::string_view url);

// Masks a configuration tree in place: every scalar under a secret-named key becomes ***,
// and every string scalar holding a URL goes through redact_url().
void redact_config(YAML::Node node);

}  // namespace majordome
