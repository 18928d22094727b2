// Butler queries (queries.hpp): streaming results, limits across dataset types, unions of
// data IDs, explanations as data, pruning and collection operations; SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "butler_repo_fixture.hpp"
#include "majordome/core/error.hpp"

namespace majordome::butler {
namespace {

using Json = nlohmann::ordered_json;
using testing::Backend;
using testing::ButlerRepoTest;

DataId detector(std::int64_t d) { return {{"instrument", std::string("Cam1")}, {"detector", d}}; }

class ButlerQueriesTest : public ButlerRepoTest {
 protected:
  // "a" in runs r1 and r2 for detectors 1 and 2, "b" in r2 for detector 2.
  std::unique_ptr<Butler> open_with_datasets() {
    auto b = open();
    auto& r = b->registry();
    const auto& u = r.universe();
    r.register_dataset_type({"a", u.group({"instrument", "detector"}), "StructuredDataDict", false});
    r.register_dataset_type({"b", u.group({"instrument", "detector"}), "StructuredDataDict", false});
    for (const char* run : {"r1", "r2"})
      for (std::int64_t d : {1, 2}) b->put(Json{{"run", run}, {"d", d}}, "a", detector(d), run);
    b->put(Json{{"b", 2}}, "b", detector(2), "r2");
    return b;
  }
};

TEST_P(ButlerQueriesTest, DatasetsStreamTypeByTypeAndTheLimitCountsThemAll) {
  auto b = open_with_datasets();
  auto all = b->query_datasets({.dataset_types = {"*"}}).all();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front().dataset_type, "a");
  EXPECT_EQ(all.back().dataset_type, "b");

  auto limited = b->query_datasets({.dataset_types = {"a", "b"}, .limit = 4});
  EXPECT_EQ(limited.all().size(), 4u);
  EXPECT_TRUE(limited.more());  // "b" still has one
  auto exact = b->query_datasets({.dataset_types = {"a", "b"}, .limit = 5});
  EXPECT_EQ(exact.all().size(), 5u);
  EXPECT_FALSE(exact.more());

  auto first = b->query_datasets({.dataset_types = {"a"}, .collections = {"r2", "r1"}, .find_first = FindFirst::kYes});
  auto refs = first.all();
  ASSERT_EQ(refs.size(), 2u);
  for (const auto& ref : refs) EXPECT_EQ(ref.run, "r2");

  auto ordered = b->query_datasets({.dataset_types = {"a"}, .collections = {"r1"},
                                    .order_by = OrderBy::parse(std::vector<std::string>{"-detector"})});
  auto desc = ordered.all();
  ASSERT_EQ(desc.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(desc[0].data_id.at("detector")), 2);
}

TEST_P(ButlerQueriesTest, EmptyResultsSayWhyAsData) {
  auto b = open_with_datasets();
  auto none = b->query_datasets({.dataset_types = {"b"}, .collections = {"r1"}});
  EXPECT_TRUE(none.empty());
  auto reasons = none.why_empty();
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].kind, query::EmptyReason::Kind::kDatasetTypeAbsent);
  EXPECT_EQ(reasons[0].dataset_type, "b");

  auto unmatched = b->query_datasets({.dataset_types = {"zz*"}});
  ASSERT_EQ(unmatched.why_empty().size(), 1u);
  EXPECT_EQ(unmatched.why_empty()[0].kind, query::EmptyReason::Kind::kNoDatasetType);
  EXPECT_THROW(b->query_datasets({.dataset_types = {"nosuchtype"}}), NotFoundError);

  // empty() on a non-empty result reads one row and keeps it for next().
  auto some = b->query_datasets({.dataset_types = {"b"}});
  EXPECT_FALSE(some.empty());
  EXPECT_TRUE(some.why_empty().empty());
  EXPECT_EQ(some.all().size(), 1u);
}

TEST_P(ButlerQueriesTest, DataIdsOfSeveralTypesAreAUnionWithoutRepeats) {
  auto b = open_with_datasets();
  auto ids = b->query_data_ids({.dimensions = {"detector"}, .dataset_types = {"a", "b"}}).all();
  EXPECT_EQ(ids.size(), 2u);  // detector 2 has both types: once
  auto paged = b->query_data_ids({.dimensions = {"detector"}, .dataset_types = {"a", "b"}, .limit = 1, .offset = 1});
  auto page = paged.all();
  ASSERT_EQ(page.size(), 1u);
  EXPECT_FALSE(paged.more());
  auto only_b = b->query_data_ids({.dataset_types = {"b"}});  // dimensions of the type
  EXPECT_EQ(only_b.all().size(), 1u);
  EXPECT_THROW(b->query_data_ids({}), InvalidArgumentError);
  // No dataset type: every detector of the instrument, datasets or not, in data-ID order.
  auto detectors = b->query_data_ids({.dimensions = {"detector"}}).all();
  ASSERT_GE(detectors.size(), 2u);
  for (std::size_t i = 1; i < detectors.size(); ++i)
    EXPECT_LT(std::get<std::int64_t>(detectors[i - 1].at("detector")), std::get<std::int64_t>(detectors[i].at("detector")));

  auto records = b->query_dimension_records({.element = "detector", .limit = 1});
  EXPECT_EQ(records.all().size(), 1u);
  EXPECT_TRUE(records.more());
}

TEST_P(ButlerQueriesTest, PruneSelectsChecksThenActs) {
  auto b = open_with_datasets();
  PruneRequest wrong_run{.collections = {"r1", "r2"}, .dataset_types = {"a"}, .find_first = FindFirst::kNo,
                         .actions = {PruneAction::kPurge}, .purge_run = "r1"};
  EXPECT_THROW(b->prune_selection(wrong_run), InvalidArgumentError);
  EXPECT_THROW(b->prune_selection({.collections = {"r1"}}), InvalidArgumentError);  // no action

  PruneRequest purge{.dataset_types = {"a"}, .actions = {PruneAction::kPurge}, .purge_run = "r1"};
  auto selected = b->prune_selection(purge);
  ASSERT_EQ(selected.size(), 2u);
  b->prune(purge, selected);
  EXPECT_TRUE(b->query_datasets({.dataset_types = {"a"}, .collections = {"r1"}}).empty());
  EXPECT_EQ(b->query_datasets({.dataset_types = {"a"}, .collections = {"r2"}}).all().size(), 2u);
}

TEST_P(ButlerQueriesTest, CollectionOperationsAreEachOneTransaction) {
  auto b = open_with_datasets();
  EXPECT_EQ(b->edit_chain({.parent = "chain", .children = {"r1", "r2"}}), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(b->edit_chain({.parent = "chain", .edit = ChainEdit::kPop, .positions = {-1}}),
            (std::vector<std::string>{"r1"}));
  // As Rubin: removing a collection that is not a child changes nothing.
  EXPECT_EQ(b->edit_chain({.parent = "chain", .children = {"r2"}, .edit = ChainEdit::kRemove}),
            (std::vector<std::string>{"r1"}));
  // A refused edit changes nothing either; extend moves a child already there to the end.
  EXPECT_THROW(b->edit_chain({.parent = "chain", .children = {"r2", "nosuch"}, .edit = ChainEdit::kExtend}),
               NotFoundError);
  EXPECT_EQ(b->registry().chain_children("chain"), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(b->edit_chain({.parent = "chain", .children = {"r2"}, .edit = ChainEdit::kExtend}),
            (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(b->edit_chain({.parent = "chain", .children = {"r1"}, .edit = ChainEdit::kExtend}),
            (std::vector<std::string>{"r2", "r1"}));
  EXPECT_THROW(b->edit_chain({.parent = "chain", .children = {"r1"}, .edit = ChainEdit::kRemove, .flatten = true}),
               InvalidArgumentError);
  EXPECT_EQ(b->edit_chain({.parent = "chain", .edit = ChainEdit::kPop, .positions = {0}}),
            (std::vector<std::string>{"r1"}));

  auto tagged = b->associate("tag", {.dataset_types = {"b"}});
  EXPECT_EQ(tagged.size(), 1u);
  EXPECT_THROW(b->associate("r1", {.dataset_types = {"b"}}), CollectionTypeError);

  auto runs = b->run_summaries({"r*"});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].datasets, 2);
  EXPECT_EQ(runs[1].datasets, 3);
  b->remove_runs({"r1"}, true);  // also leaves "chain"
  EXPECT_TRUE(b->registry().chain_children("chain").empty());
  EXPECT_THROW(b->remove_collections({"r2"}, false), InvalidArgumentError);
  b->remove_collections({"tag"}, false);
  EXPECT_FALSE(b->registry().find_collection("tag"));
  auto flat = b->query_collections({.globs = {"chain"}, .flatten_chains = true});
  ASSERT_EQ(flat.size(), 1u);  // the chain itself, now empty
}

INSTANTIATE_TEST_SUITE_P(Backends, ButlerQueriesTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace majordome::butler
