#include "majordome/core/error.hpp"

namespace majordome {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kCollectionType: return "CollectionType";
    case ErrorCode::kInvalidQuery: return "InvalidQuery";
    case ErrorCode::kInvalidConfig: return "InvalidConfig";
    case ErrorCode::kIoError: return "IoError";
    case ErrorCode::kCorruptFile: return "CorruptFile";
    case ErrorCode::kDatabaseError: return "DatabaseError";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kUnsupported: return "Unsupported";
    case ErrorCode::kBusy: return "Busy";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

int exit_status(ErrorCode code) {
  // Stable numbers: scripts may test them. 1 is reserved for usage errors.
  switch (code) {
    case ErrorCode::kInvalidArgument: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kConflict: return 4;
    case ErrorCode::kCollectionType: return 5;
    case ErrorCode::kInvalidQuery: return 6;
    case ErrorCode::kInvalidConfig: return 7;
    case ErrorCode::kIoError: return 8;
    case ErrorCode::kCorruptFile: return 9;
    case ErrorCode::kDatabaseError: return 10;
    case ErrorCode::kPermissionDenied: return 11;
    case ErrorCode::kUnsupported: return 12;
    case ErrorCode::kBusy: return 13;
    case ErrorCode::kInternal: return 20;
  }
  return 20;
}

}  // namespace majordome
