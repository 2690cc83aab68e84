// An admin's edit of a location as the store applies it: rooms retired and put back in
// use, each refusal naming its field, and the location untouched by a refused edit.
#include <gtest/gtest.h>

#include "scheduling_model.hpp"

namespace alliance::scheduling {
namespace {

Location office() {
  Location l;
  l.id = "loc";
  l.name = "Elm Street office";
  l.address = "12 Elm St";
  l.rooms = {"Room 1", "Room 2"};
  return l;
}

TEST(LocationChange, RenamesRetiresAndPutsARoomBackInUse) {
  auto l = office();
  LocationChange change;
  change.name = "Elm Street clinic";
  change.retire_rooms = {"Room 1"};
  change.add_rooms = {"Room 3"};
  ASSERT_TRUE(apply_location_change(l, change));
  EXPECT_EQ(l.name, "Elm Street clinic");
  EXPECT_EQ(l.address, "12 Elm St");
  EXPECT_EQ(l.rooms, (std::vector<std::string>{"Room 2", "Room 3"}));
  EXPECT_EQ(l.retired_rooms, (std::vector<std::string>{"Room 1"}));
  LocationChange back;
  back.add_rooms = {"Room 1"};
  ASSERT_TRUE(apply_location_change(l, back));
  EXPECT_EQ(l.rooms, (std::vector<std::string>{"Room 2", "Room 3", "Room 1"}));
  EXPECT_TRUE(l.retired_rooms.empty());
}

TEST(LocationChange, EachRefusalNamesItsFieldAndChangesNothing) {
  auto refused = [](LocationChange change) {
    auto l = office();
    auto s = apply_location_change(l, change);
    EXPECT_FALSE(s);
    EXPECT_EQ(l.name, "Elm Street office");
    EXPECT_EQ(l.rooms, office().rooms);
    EXPECT_TRUE(l.retired_rooms.empty());
    return s ? std::string("(applied)") : s.error().field;
  };
  LocationChange unknown;
  unknown.name = "Renamed";
  unknown.retire_rooms = {"Room 2", "Room 9"};
  EXPECT_EQ(refused(unknown), "retire_rooms[1]");
  LocationChange in_use;
  in_use.add_rooms = {"Room 3", "Room 2"};
  EXPECT_EQ(refused(in_use), "add_rooms[1]");
  LocationChange twice;
  twice.add_rooms = {"Room 3", "Room 3"};
  EXPECT_EQ(refused(twice), "add_rooms[1]");
  LocationChange both;
  both.add_rooms = {"Room 1"};
  both.retire_rooms = {"Room 1"};
  EXPECT_EQ(refused(both), "retire_rooms[0]");
  LocationChange too_many;
  for (int i = 0; i < 49; ++i) too_many.add_rooms.push_back("Extra " + std::to_string(i));
  EXPECT_EQ(refused(too_many), "add_rooms");
}

}  // namespace
}  // namespace alliance::scheduling
