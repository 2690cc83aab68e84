#pragma once
// The bind-step-map shape every store query has, written once:
//
//   auto rows = query_all(c, "SELECT id, due_ms FROM reminders WHERE client_id = ?",
//                         [](Statement& s) { return Row{s.column_text(0), s.column_int(1)}; }, client_id);
//   std::optional<Row> one = query_one(c, "SELECT ... WHERE id = ?", read_row, id);
//   int changed = execute(c, "UPDATE reminders SET state = ? WHERE id = ?", "sent", id);
//
// The statement comes from the connection's cache (constant SQL, values bound), so
// use these only on the thread that owns the connection (inside Database::read/write).
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "alliance/store/connection.hpp"

namespace alliance::store {

// Every row of `sql` with `args` bound to ?1..?N, each mapped by map(Statement&).
template <class Map, class... Args>
auto query_all(Connection& c, std::string_view sql, Map&& map, const Args&... args)
    -> std::vector<std::invoke_result_t<Map&, Statement&>> {
  auto& st = c.prepare(sql);
  st.bind_all(args...);
  std::vector<std::invoke_result_t<Map&, Statement&>> out;
  while (st.step()) out.push_back(map(st));
  return out;
}

// The first row of `sql` mapped by map(Statement&), or nullopt if there is none.
template <class Map, class... Args>
auto query_one(Connection& c, std::string_view sql, Map&& map, const Args&... args)
    -> std::optional<std::invoke_result_t<Map&, Statement&>> {
  auto& st = c.prepare(sql);
  st.bind_all(args...);
  if (!st.step()) return std::nullopt;
  auto row = map(st);
  st.reset();
  return row;
}

// Runs a statement that returns no rows; the number of rows it changed.
template <class... Args>
int execute(Connection& c, std::string_view sql, const Args&... args) {
  auto& st = c.prepare(sql);
  st.bind_all(args...);
  while (st.step()) {
  }
  return c.changes();
}

}  // namespace alliance::store
