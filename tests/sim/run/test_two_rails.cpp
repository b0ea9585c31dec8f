// A buffer that two NICs reach (two rails: NIXL's and Mooncake's transfer engines register a
// buffer on every NIC they use; docs/mechanisms.md, "What each path charges"): each NIC
// registers, maps, faults and is revoked on its own, as each NIC's driver keeps its own MR and
// MTT. Every figure below is the same run with one NIC against two.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/os/page_table.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
// A named namespace: the tests build as unity chunks, where anonymous namespaces merge.
namespace two_rails {

constexpr double kFirstTouchNs = 310; // first_touch_page default
constexpr std::uint64_t kPages = 4 * (1 << 20) / 4096;

nlohmann::json phase(const std::string &id, const std::string &actor, const std::string &op) {
  return {{"id", id}, {"actor", actor}, {"op", op}, {"buffer", "data"}};
}

// One 4 MiB buffer; `nics` NICs each read it in turn, then `after` (phases run after them).
nlohmann::json scenario(int nics, const std::string &mechanism, nlohmann::json buffer,
                        const std::string &nic_mr,
                        const nlohmann::json &after = nlohmann::json::array()) {
  buffer["id"] = "data";
  buffer["gpu"] = "gpu0";
  buffer["size"] = "4 MiB";
  nlohmann::json phases = nlohmann::json::array();
  for (int k = 0; k < nics; ++k)
    phases.push_back(phase("send" + std::to_string(k), "nic" + std::to_string(k), "read"));
  for (const nlohmann::json &p : after)
    phases.push_back(p);
  nlohmann::json workload = {
      {"mechanisms", {mechanism}}, {"buffers", {buffer}}, {"phases", phases}};
  if (!nic_mr.empty())
    workload["nic_mr"] = nic_mr;
  return {{"name", "two-rails"},
          {"topology", shared_switch_with_nics(std::max(nics, 2))},
          {"workload", workload}};
}

nlohmann::json run(const nlohmann::json &s) {
  const ScenarioRun r = run_scenario_file(s, "rails");
  EXPECT_EQ(r.command.exit_code, 0) << r.command.err;
  nlohmann::json m = r.results["mechanisms"][0];
  EXPECT_EQ(m["status"], "ok") << m["reason"];
  return m;
}

double setup_ns(const nlohmann::json &m) { return m["breakdown_ns"]["setup"].get<double>(); }
std::int64_t os_stat(const nlohmann::json &m, const char *name) {
  return m["os"][name].get<std::int64_t>();
}

const nlohmann::json kDevice = {{"placement", "device"}};

// p2pdma: each NIC pins and maps the BAR pages for its own MR, one after the other.
TEST(TwoRails, EachNicRegistersTheBufferOnItsOwn) {
  const nlohmann::json one = run(scenario(1, "p2p_dma_api", kDevice, ""));
  const nlohmann::json two = run(scenario(2, "p2p_dma_api", kDevice, ""));
  EXPECT_EQ(os_stat(two, "pages_pinned"), 2 * os_stat(one, "pages_pinned"));
  EXPECT_GT(setup_ns(one), 0);
  EXPECT_DOUBLE_EQ(setup_ns(two), 2 * setup_ns(one));
}

// Memory never touched: the first NIC's pin_user_pages faults every page in, the second finds
// them resident and pays its registration alone.
TEST(TwoRails, OnlyTheFirstRegistrationFaultsUntouchedMemoryIn) {
  nlohmann::json fresh = {{"placement", "system"}, {"managed", true}, {"populated", false}};
  nlohmann::json touched = fresh;
  touched["populated"] = true;
  const double one_touched = setup_ns(run(scenario(1, "hmm_migrate", touched, "pinned")));
  const double one_fresh = setup_ns(run(scenario(1, "hmm_migrate", fresh, "pinned")));
  const double two_fresh = setup_ns(run(scenario(2, "hmm_migrate", fresh, "pinned")));
  EXPECT_NEAR(one_fresh - one_touched, kPages * kFirstTouchNs, 1e-3);
  EXPECT_NEAR(two_fresh - one_fresh, one_touched, 1e-3);
}

// ODP: each NIC's MTT starts empty, so the second NIC faults every page the first one mapped.
TEST(TwoRails, EachNicFaultsItsOwnOdpMappings) {
  const nlohmann::json one = run(scenario(1, "hmm_p2p", kDevice, "odp"));
  const nlohmann::json two = run(scenario(2, "hmm_p2p", kDevice, "odp"));
  EXPECT_GT(os_stat(one, "odp_faults"), 0);
  EXPECT_EQ(os_stat(two, "odp_faults"), 2 * os_stat(one, "odp_faults"));
  EXPECT_EQ(os_stat(two, "p2p_page_mappings"), 2 * os_stat(one, "p2p_page_mappings"));
}

// A migration's notifier reaches each NIC that maps a moving page: each zaps its own MTT.
TEST(TwoRails, AMigrationZapsEachNicsMappings) {
  const nlohmann::json back = nlohmann::json::array({phase("compute", "gpu0", "write")});
  const nlohmann::json one = run(scenario(1, "hmm_migrate", kDevice, "odp", back));
  const nlohmann::json two = run(scenario(2, "hmm_migrate", kDevice, "odp", back));
  EXPECT_GT(os_stat(one, "invalidations"), 0);
  EXPECT_EQ(os_stat(two, "invalidations"), 2 * os_stat(one, "invalidations"));
}

// The GPU driver revokes the buffer: each NIC's MR is dropped (its own zap), and each NIC
// recovers and registers again on its next access.
TEST(TwoRails, ARevocationDropsEachNicsMrAndEachRecovers) {
  auto revoked = [](int nics) {
    nlohmann::json after = nlohmann::json::array();
    after.push_back({{"id", "revoke"}, {"actor", "gpu0"}, {"op", "revoke"}, {"buffer", "data"}});
    for (int k = 0; k < nics; ++k)
      after.push_back(phase("again" + std::to_string(k), "nic" + std::to_string(k), "read"));
    return run(scenario(nics, "p2p_dma_api", kDevice, "", after));
  };
  const nlohmann::json one = revoked(1), two = revoked(2);
  EXPECT_EQ(os_stat(one, "revocations"), 1);
  EXPECT_EQ(os_stat(two, "revocations"), 2);
  EXPECT_EQ(os_stat(one, "reregistrations"), 1);
  EXPECT_EQ(os_stat(two, "reregistrations"), 2);
}

// The pages record which NICs map them in a 16-bit mask: a 17th NIC on one buffer is refused.
TEST(TwoRails, ABufferReachedByMoreNicsThanItsPagesRecordIsRefused) {
  const CommandResult r =
      run_scenario_file(scenario(kMaxNicsPerBuffer + 1, "p2p_dma_api", kDevice, ""), "rails")
          .command;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/workload/phases/16/actor"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at most 16 NICs a buffer"), std::string::npos) << r.err;
}

} // namespace two_rails
} // namespace pciesim::test
