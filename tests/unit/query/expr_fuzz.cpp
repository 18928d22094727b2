// libFuzzer target for the expression front end (built as fuzz_query_expr with
// -DMAJORDOME_FUZZ=ON under Clang; also linked into test_query, which replays the seed
// corpus in fuzz_corpus/ through it).
//
// Properties checked on every input:
//   - parsing never crashes, hangs or throws anything but ExpressionError;
//   - an error points inside the input (or at its end);
//   - a parsed tree prints to text that parses back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "majordome/query/expression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using majordome::query::ExpressionError;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<majordome::query::Expr> tree;
  try {
    tree = majordome::query::parse_expression(text);
  } catch (const ExpressionError& e) {
    if (e.position().offset > size || e.position().line < 1 || e.position().column < 1) std::abort();
    return 0;
  }
  if (!tree) return 0;
  const std::string printed = tree->str();
  std::optional<majordome::query::Expr> again = majordome::query::parse_expression(printed);
  if (!again || again->str() != printed) std::abort();
  int nodes = 0;
  majordome::query::walk(*again, [&nodes](const majordome::query::Expr&) { ++nodes; });
  if (nodes < 1) std::abort();
  return 0;
}
