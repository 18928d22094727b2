// The majordome error hierarchy.
//
// Every failure that ends an operation is thrown as a majordome::Error carrying an
// ErrorCode. The message names the thing that failed and, where there is one, the fix.
// Expected outcomes (a lookup that may miss) are returned as std::optional instead.
// The command line maps codes to exit statuses (exit_status()); the Python bindings map
// each code to an exception class that also inherits the matching builtin.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace majordome {

enum class ErrorCode {
  kInvalidArgument,     // a value given by the caller is malformed (ValueError)
  kNotFound,            // a named thing does not exist (KeyError / LookupError)
  kConflict,            // would contradict what is already recorded (ConflictingDefinitionError)
  kCollectionType,      // operation not allowed on this type of collection
  kInvalidQuery,        // a query expression or query arguments are wrong
  kInvalidConfig,       // a configuration file or value is wrong
  kIoError,             // reading or writing a file or resource failed (OSError)
  kCorruptFile,         // a file exists but its content cannot be used
  kDatabaseError,       // the SQL backend failed
  kPermissionDenied,    // refused for security reasons (e.g. credentials readable by others)
  kUnsupported,         // a valid request we do not implement (NotImplementedError)
  kBusy,                // another process holds a lock and the wait timed out
  kCancelled,           // the caller cancelled the operation (Progress::cancel, Ctrl-C)
  kInternal,            // a bug: an invariant did not hold
};

// A short stable name for the code ("NotFound"), used in messages and by the bindings.
std::string_view error_code_name(ErrorCode code);

// The exit status the command line uses for an error of this code (2..20; 1 is usage).
int exit_status(ErrorCode code);

// `text` as a message shows it: control characters (and DEL, and the C1 range) and bytes
// that are not valid UTF-8 escaped as \n, \t or \xHH, so a hostile name cannot break a
// line, a table or a terminal.
std::string printable(std::string_view text);
// True if printable() would escape something in `text`: a control character (C0, DEL or
// C1) or a byte that is not valid UTF-8.
bool has_control_characters(std::string_view text);
// True if `text` is well-formed UTF-8 (no stray, truncated, overlong or surrogate bytes).
bool is_valid_utf8(std::string_view text);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// One class per code, so callers can catch what they handle.
template <ErrorCode C>
class CodedError : public Error {
 public:
  explicit CodedError(const std::string& message) : Error(C, message) {}
};

using InvalidArgumentError = CodedError<ErrorCode::kInvalidArgument>;
using NotFoundError = CodedError<ErrorCode::kNotFound>;
using ConflictError = CodedError<ErrorCode::kConflict>;
using CollectionTypeError = CodedError<ErrorCode::kCollectionType>;
using InvalidQueryError = CodedError<ErrorCode::kInvalidQuery>;
using InvalidConfigError = CodedError<ErrorCode::kInvalidConfig>;
using IoError = CodedError<ErrorCode::kIoError>;
using CorruptFileError = CodedError<ErrorCode::kCorruptFile>;
using DatabaseError = CodedError<ErrorCode::kDatabaseError>;
using PermissionDeniedError = CodedError<ErrorCode::kPermissionDenied>;
using UnsupportedError = CodedError<ErrorCode::kUnsupported>;
using BusyError = CodedError<ErrorCode::kBusy>;
using CancelledError = CodedError<ErrorCode::kCancelled>;
using InternalError = CodedError<ErrorCode::kInternal>;

}  // namespace majordome
