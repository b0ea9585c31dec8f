// Registering memory in 2 MiB pages (docs/mechanisms.md, "What each path charges"):
// pin_user_pages still hands back every 4 KiB subpage, so a registration costs
// register_page_huge per 4 KiB (not register_page per huge page); populating a huge page
// zeroes all of it, first_touch_page per 4 KiB; p2pdma pins a GPU BAR in 4 KiB pages whatever
// the buffer's page size; a DMA-BUF registration pays the MR as any registration does.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
// A named namespace: the tests build as unity chunks, where anonymous namespaces merge.
namespace huge_page_registration {

constexpr double kRegisterPageNs = 140;    // register_page default
constexpr double kRegisterPageHugeNs = 54; // register_page_huge default
constexpr double kFirstTouchNs = 310;      // first_touch_page default
constexpr double kBasePages = 64.0 * 256;  // a 64 MiB buffer in 4 KiB pages

// nic0 registers a 64 MiB buffer of `page_size` pages under `mechanism`, then reads a page.
double setup_ns(const std::string &mechanism, const std::string &page_size,
                const std::string &placement, bool populated) {
  nlohmann::json buffer = {{"id", "data"},
                           {"gpu", "gpu0"},
                           {"size", "64 MiB"},
                           {"page_size", page_size},
                           {"placement", placement}};
  if (placement == "system") {
    buffer["managed"] = true;
    buffer["populated"] = populated;
  }
  nlohmann::json workload = {{"mechanisms", {mechanism}},
                             {"buffers", {buffer}},
                             {"phases",
                              {{{"id", "send"},
                                {"actor", "nic0"},
                                {"op", "read"},
                                {"buffer", "data"},
                                {"size", "4 KiB"}}}}};
  if (mechanism == "hmm_migrate")
    workload["nic_mr"] = "pinned";
  const nlohmann::json s = {
      {"name", "huge-pages"},
      {"topology", nlohmann::json::parse(read_repo_file("topologies/gpu-nic-shared-switch.json"))},
      {"workload", workload}};
  const ScenarioRun r = run_scenario_file(s, "huge");
  EXPECT_EQ(r.command.exit_code, 0) << r.command.err;
  const nlohmann::json &m = r.results["mechanisms"][0];
  EXPECT_EQ(m["status"], "ok") << m["reason"];
  return m["breakdown_ns"]["setup"].get<double>();
}

// The same resident memory in 2 MiB pages registers at register_page_huge per 4 KiB instead of
// register_page: the difference is the per-4 KiB saving over every base page.
TEST(HugePageRegistration, AResidentHugePageCostsEachOfItsSubpagesAtTheHugeRate) {
  const double base = setup_ns("hmm_migrate", "4 KiB", "system", true);
  const double huge = setup_ns("hmm_migrate", "2 MiB", "system", true);
  EXPECT_NEAR(base - huge, kBasePages * (kRegisterPageNs - kRegisterPageHugeNs), 1e-3);
}

// Memory never touched: the registration faults each huge page in, zeroing all of it.
TEST(HugePageRegistration, FaultingAHugePageInZeroesAllOfIt) {
  const double resident = setup_ns("hmm_migrate", "2 MiB", "system", true);
  const double fresh = setup_ns("hmm_migrate", "2 MiB", "system", false);
  EXPECT_NEAR(fresh - resident, kBasePages * kFirstTouchNs, 1e-3);
}

// p2pdma maps a GPU BAR in 4 KiB pages: a buffer migrated in 2 MiB pages registers as one of
// 4 KiB pages.
TEST(HugePageRegistration, APeerBarRegistersIn4KiBPagesWhateverTheBuffersPageSize) {
  EXPECT_DOUBLE_EQ(setup_ns("p2p_dma_api", "2 MiB", "device", true),
                   setup_ns("p2p_dma_api", "4 KiB", "device", true));
}

// ibv_reg_dmabuf_mr is a registration as any other: the MR's fixed part (register_mr, 16 us),
// then the dynamic attachment (dmabuf_attach, 10 us) and a DMA mapping per page of the
// exporter's buffer (dma_map_page, 100 ns); the exporter pins it, the importer pins nothing.
TEST(HugePageRegistration, ADmabufRegistrationPaysTheMrThenTheAttachmentAndAMappingPerPage) {
  EXPECT_NEAR(setup_ns("dmabuf_p2p", "4 KiB", "device", true), 16000 + 10000 + kBasePages * 100,
              1e-3);
}

} // namespace huge_page_registration
} // namespace pciesim::test
