#pragma once
/// SQL the tests inspect with EXPLAIN QUERY PLAN, so a change that makes a
/// query scan every row fails a test instead of slowing large databases.

#include <string>

namespace rdns::db::detail {

/// Database::address_results: ?1 canonical IP, ?2 inventory or '', ?3 limit.
std::string address_results_sql();

}  // namespace rdns::db::detail
