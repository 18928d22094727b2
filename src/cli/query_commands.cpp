// `majordome parse-expression`: the where-expression parser on its own, for the grammar
// tests (tests/queries/grammar.test) and for users checking an expression before a query.
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "commands.hpp"
#include "majordome/core/error.hpp"
#include "majordome/query/expression.hpp"

namespace majordome::cli {

void add_query_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "parse-expression",
      "Parse a where-expression and print it normalised (keywords upper-case, single spaces); an empty "
      "expression prints nothing. A mistake is reported with a caret under it (exit status 6).");
  auto expression = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto* text = cmd->add_option("EXPRESSION", *expression, "The expression, e.g. \"visit IN (1..5) AND band = 'g'\"");
  auto* from = cmd->add_option("--file", *file, "Read the expression from this file instead (for very long ones)");
  text->excludes(from);
  on_run(cmd, [=] {
    std::string source = *expression;
    if (!file->empty()) {
      std::ifstream in(*file, std::ios::binary);
      if (!in) throw NotFoundError(fmt::format("expression file {} does not exist or cannot be read", *file));
      source.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto tree = query::parse_expression(source);  // throws ExpressionError (InvalidQuery, exit 6)
    if (tree) std::cout << tree->str() << "\n";
  });
}

}  // namespace majordome::cli
