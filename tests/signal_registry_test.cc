// The signal registry alone: what the signals write into the context, in
// which order, what they raise, what a decision teaches them, and their
// tables' round trip through the state store.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "runtime/auth/signals/signal_registry.h"
#include "runtime/auth/state_store.h"
#include "tests/test_support.h"

namespace warden::auth {
namespace {

struct Fixture {
  warden::testing::TempDir dir;
  AuthConfig config;
  std::unique_ptr<SignalRegistry> registry;
  NetworkSnapshot network;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  bc::Program program;
  rt::Frame frame{program};
  std::vector<std::string> limit_keys;
  Decision decision;

  Fixture() {
    auto created = SignalRegistry::Create(config);
    REQUIRE(created.ok());
    registry = *std::move(created);
  }

  CheckFacts Facts(std::optional<std::string_view> ip = "192.0.2.1") {
    CheckFacts facts;
    facts.now = now;
    facts.subject = "ann";
    facts.subject_key = "s:ann";
    facts.ip = ip;
    if (ip) REQUIRE(ParseIpAddress(*ip, &facts.ip_net));
    facts.ip_key = ip ? "ip:192.0.2.1" : "";
    facts.device_id = "laptop";
    facts.network = &network;
    return facts;
  }

  // Look and Compute as a check runs them: {context members, signals}.
  std::pair<std::string, std::string> Run(CheckFacts facts) {
    std::string json, signals;
    CHECK_FALSE(registry->Look(facts, &signals));
    ContextWriter writer(&json, &signals);
    registry->Compute(facts, writer);
    return {json, signals};
  }

  void Permit(const CheckFacts& facts) {
    decision.Clear();
    decision.outcome = rt::Outcome::kPermit;
    std::string signals;
    registry->Record(facts, DecidedFacts{decision, program, frame, limit_keys}, &signals);
    CHECK(signals.empty());
  }
};

TEST_CASE("the computed context keys: the built-in context attributes Warden computes") {
  Fixture f;
  CHECK(f.registry->computed_keys() == std::vector<std::string_view>{"time", "geo", "network",
                                                                     "attempts", "unusual_hour",
                                                                     "known_network"});
}

TEST_CASE("every signal writes its members in registry order") {
  Fixture f;
  const auto [json, signals] = f.Run(f.Facts());
  CHECK(json == R"(,"ip":"192.0.2.1","network":{"anonymous":false,"hosting":false,"tor":false,)"
                R"("listed":false},"geo":{"impossible_travel":false,"travel_speed_kmh":0},)"
                R"("device":{"id":"laptop","known":false},"attempts":{"failed_subject":0,)"
                R"("failed_ip":0,"locked":false},"unusual_hour":false,"known_network":false)");
  CHECK(signals == R"("new_device")");
  // Every computed built-in member is written ("time" by the decision request).
  for (const BuiltinAttribute& attribute : kBuiltinAttributes) {
    if (attribute.record != "context" || attribute.source != BuiltinSource::kComputed ||
        attribute.name == "time")
      continue;
    CAPTURE(attribute.name);
    CHECK(warden::testing::Contains(json, "\"" + std::string(attribute.name) + "\":"));
  }
  // Without an address: no ip member, the network all false.
  const auto [no_ip, _] = f.Run(f.Facts(std::nullopt));
  CHECK(no_ip.starts_with(R"(,"network":{"anonymous":false)"));
}

TEST_CASE("an IP list that holds the address is raised by name, before the others") {
  Fixture f;
  auto list = IpList::Parse("192.0.2.0/24\n", "blocked");
  REQUIRE(list.ok());
  f.network.ip_lists.push_back({"blocked", std::make_shared<const IpList>(*std::move(list))});
  const auto [json, signals] = f.Run(f.Facts());
  CHECK(warden::testing::Contains(json, R"("listed":true)"));
  CHECK(signals == R"("listed_ip:blocked","new_device")");
}

TEST_CASE("a permit teaches the signals; a deny does not") {
  Fixture f;
  const CheckFacts facts = f.Facts();
  f.decision.outcome = rt::Outcome::kDeny;
  std::string signals;
  f.registry->Record(facts, DecidedFacts{f.decision, f.program, f.frame, f.limit_keys}, &signals);
  CHECK(warden::testing::Contains(f.Run(facts).first, R"("known":false)"));
  f.Permit(facts);
  CHECK(warden::testing::Contains(f.Run(facts).first, R"("known":true)"));
  CHECK(f.Run(facts).second.empty());
}

TEST_CASE("known networks: a permit teaches the /24 (IPv6: /48); new_network needs a history") {
  Fixture f;
  CHECK(warden::testing::Contains(f.Run(f.Facts()).first, R"("known_network":false)"));
  CHECK(f.Run(f.Facts()).second == R"("new_device")");  // a first sign-in: nothing to compare
  f.Permit(f.Facts());
  CHECK(warden::testing::Contains(f.Run(f.Facts("192.0.2.77")).first, R"("known_network":true)"));
  CHECK(warden::testing::Contains(f.Run(f.Facts("::ffff:192.0.2.9")).first,
                                  R"("known_network":true)"));
  const auto [json, signals] = f.Run(f.Facts("198.51.100.1"));
  CHECK(warden::testing::Contains(json, R"("known_network":false)"));
  CHECK(signals == R"("new_network")");
  CHECK(f.Run(f.Facts(std::nullopt)).second.empty());  // no address: nothing new
  f.Permit(f.Facts("2001:db8:1:2::5"));
  CHECK(warden::testing::Contains(f.Run(f.Facts("2001:db8:1:ffff::1")).first,
                                  R"("known_network":true)"));
  CHECK(
      warden::testing::Contains(f.Run(f.Facts("2001:db8:2::1")).first, R"("known_network":false)"));
}

TEST_CASE("failed attempts show in the context; the sweep drops expired streaks") {
  Fixture f;
  f.registry->attempts().RecordFailure("s:ann", f.now);
  const auto [json, signals] = f.Run(f.Facts());
  CHECK(warden::testing::Contains(json, R"("failed_subject":1,"failed_ip":0)"));
  CHECK(signals == R"("new_device","failed_attempts")");
  f.registry->Sweep(f.now + absl::Hours(2));
  CHECK(f.registry->attempts().size() == 0);
}

TEST_CASE("the tables flush to the store and import back") {
  Fixture f;
  const CheckFacts facts = f.Facts();
  f.Permit(facts);
  f.registry->attempts().RecordFailure("ip:192.0.2.1", f.now);
  StateStoreOptions options;
  options.create_if_missing = true;
  auto store = StateStore::Open(f.dir / "state.db", options);
  REQUIRE(store.ok());
  REQUIRE(f.registry->Flush(**store).ok());
  int device_rows = 0;
  REQUIRE((*store)
              ->LoadRows("devices", [&](std::string_view, std::string_view) { ++device_rows; })
              .ok());
  CHECK(device_rows == 1);
  int network_rows = 0;
  REQUIRE((*store)
              ->LoadRows("networks", [&](std::string_view, std::string_view) { ++network_rows; })
              .ok());
  CHECK(network_rows == 1);

  Fixture restarted;
  restarted.now = f.now;
  REQUIRE(restarted.registry->Import(**store).ok());
  const auto [json, signals] = restarted.Run(restarted.Facts());
  CHECK(warden::testing::Contains(json, R"("known":true)"));
  CHECK(warden::testing::Contains(json, R"("failed_ip":1)"));
  CHECK(warden::testing::Contains(json, R"("known_network":true)"));
  CHECK(signals == R"("failed_attempts")");
}

TEST_CASE("an unknown time zone for the hours is a configuration error") {
  AuthConfig config;
  config.hours_time_zone = "Mars/Olympus";
  auto created = SignalRegistry::Create(config);
  REQUIRE_FALSE(created.ok());
  CHECK(warden::testing::Contains(std::string(created.status().message()), "auth.hours.time_zone"));
}

}  // namespace
}  // namespace warden::auth
