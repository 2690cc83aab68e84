// A front desk finds a client by the start of a name, a surname or an email, a page
// at a time, through the public API of the real system; a therapist finds only the
// clients whose care team they are on, and a client cannot search at all.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "alliance/core/ids.hpp"
#include "shared_system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;

class ClientSearch : public SharedSystem {
 protected:
  // Four clients (Jo Anderson and Ann Zhang on the therapist's care team), a therapist
  // whose own name would match "and" if staff were searched, and a front desk.
  void SetUp() override {
    slug_ = "p" + new_id().substr(0, 12);
    practice_id_ = sys_->create_practice(slug_);
    admin_ = sys_->login(slug_, "admin@" + slug_ + ".example");
    therapist_id_ = add_user("kim@" + slug_ + ".example", "Andrea Kim", "therapist");
    add_user("desk@" + slug_ + ".example", "Front Desk", "front_desk");
    jo_id_ = add_user("jo@" + slug_ + ".example", "Jo Anderson", "client");
    sam_id_ = add_user("sam@" + slug_ + ".example", "Sam Andrews", "client");
    ann_id_ = add_user("a.zhang@" + slug_ + ".example", "Ann Zhang", "client");
    add_user("emile@" + slug_ + ".example", "\xc3\x89mile Brun", "client");
    for (const auto& client : {jo_id_, ann_id_}) {
      auto link = admin_->post_json("/v1/care-team", json::value{{"client_id", client}, {"therapist_id", therapist_id_}});
      ASSERT_TRUE(link) << link.error().message;
    }
    desk_ = sys_->login(slug_, "desk@" + slug_ + ".example");
    therapist_ = sys_->login(slug_, "kim@" + slug_ + ".example");
  }

  std::string add_user(const std::string& email, const std::string& name, const std::string& role) {
    json::value body = {{"email", email}, {"password", System::kPassword}, {"display_name", name}, {"role", role}};
    auto r = admin_->post_json("/v1/users", body);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::string(r->at("user").at("id").as_string()) : "";
  }

  std::string target(const std::string& query) const { return "/v1/practices/" + practice_id_ + "/clients?" + query; }

  // The display names of one page, and its next_cursor.
  std::pair<std::vector<std::string>, std::string> page(client::AllianceClient& who, const std::string& query) {
    auto r = who.get_json(target(query));
    EXPECT_TRUE(r) << query << ": " << r.error().message;
    std::vector<std::string> names;
    std::string next;
    if (!r) return {names, next};
    if (const auto* clients = r->as_object().if_contains("clients"))
      for (const auto& c : clients->as_array()) names.emplace_back(c.at("display_name").as_string());
    if (const auto* cursor = r->as_object().if_contains("next_cursor")) next = std::string(cursor->as_string());
    return {names, next};
  }

  std::vector<std::string> names(client::AllianceClient& who, const std::string& query) { return page(who, query).first; }

  std::string slug_, practice_id_, therapist_id_, jo_id_, sam_id_, ann_id_;
  std::unique_ptr<client::AllianceClient> admin_, desk_, therapist_;
};

using Names = std::vector<std::string>;

TEST_F(ClientSearch, FrontDeskFindsClientsByFirstNameSurnameOrEmailInEitherCaseAndNeverStaff) {
  EXPECT_EQ(names(*desk_, "q=and"), (Names{"Jo Anderson", "Sam Andrews"}));
  EXPECT_EQ(names(*desk_, "q=ANDR"), (Names{"Sam Andrews"}));
  EXPECT_EQ(names(*desk_, "q=ann"), (Names{"Ann Zhang"}));
  EXPECT_EQ(names(*desk_, "q=" + client::url_encode("a.zh")), (Names{"Ann Zhang"}));
  EXPECT_EQ(names(*desk_, "q=" + client::url_encode("\xc3\x89mi")), (Names{"\xc3\x89mile Brun"}));
  // Names are sealed at rest and searched in memory, where case folds beyond ASCII:
  // "émi" and "ÉMILE" find "Émile".
  EXPECT_EQ(names(*desk_, "q=" + client::url_encode("\xc3\xa9mi")), (Names{"\xc3\x89mile Brun"}));
  EXPECT_EQ(names(*desk_, "q=" + client::url_encode("\xc3\x89MILE")), (Names{"\xc3\x89mile Brun"}));
  EXPECT_EQ(names(*admin_, "q=sam"), (Names{"Sam Andrews"}));
  // Staff are never clients, and LIKE's wildcards in the query match only themselves.
  EXPECT_TRUE(names(*desk_, "q=front").empty());
  EXPECT_TRUE(names(*desk_, "q=" + client::url_encode("%")).empty());
  EXPECT_TRUE(names(*desk_, "q=" + client::url_encode("_o")).empty());
}

TEST_F(ClientSearch, PagesFollowTheCursorUntilTheLastOne) {
  auto [first, cursor] = page(*desk_, "q=a&limit=2");
  EXPECT_EQ(first, (Names{"Ann Zhang", "Jo Anderson"}));
  ASSERT_FALSE(cursor.empty());
  auto [second, end] = page(*desk_, "q=a&limit=2&cursor=" + client::url_encode(cursor));
  EXPECT_EQ(second, (Names{"Sam Andrews"}));
  EXPECT_TRUE(end.empty());
}

TEST_F(ClientSearch, TherapistFindsOnlyTheirCareTeamsClients) {
  EXPECT_EQ(names(*therapist_, "q=and"), (Names{"Jo Anderson"}));
  EXPECT_EQ(names(*therapist_, "q=a"), (Names{"Ann Zhang", "Jo Anderson"}));
  EXPECT_TRUE(names(*therapist_, "q=sam").empty());
}

TEST_F(ClientSearch, ClientsAndOtherPracticesAreRefusedAndBadInputNamesItsField) {
  auto client = sys_->login(slug_, "jo@" + slug_ + ".example");
  auto by_client = client->get_json(target("q=sam"));
  ASSERT_FALSE(by_client);
  EXPECT_EQ(by_client.error().code, Code::kPermissionDenied);

  auto other = desk_->get_json("/v1/practices/" + new_id() + "/clients?q=sam");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kNotFound);
  EXPECT_EQ(other.error().field, "practice_id");

  auto expect_refused = [&](const std::string& query, const std::string& field) {
    auto r = desk_->get_json(target(query));
    ASSERT_FALSE(r) << query;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << query;
    EXPECT_EQ(r.error().field, field) << query << ": " << r.error().message;
  };
  expect_refused("q=", "q");
  expect_refused("limit=5", "q");
  std::string e_acute;
  for (int i = 0; i < 101; ++i) e_acute += "\xc3\xa9";
  expect_refused("q=" + client::url_encode(e_acute), "q");
  expect_refused("q=" + client::url_encode("a\tb"), "q");
  expect_refused("q=a&limit=101", "limit");
  expect_refused("q=a&cursor=" + new_id(), "cursor");
  // 100 characters of two bytes each is within the limit: it counts characters.
  EXPECT_TRUE(desk_->get_json(target("q=" + client::url_encode(e_acute.substr(2)))));
}

}  // namespace
}  // namespace alliance::testing
