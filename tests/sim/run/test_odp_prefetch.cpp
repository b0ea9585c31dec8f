// `"nic_mr": "odp_prefetch"` (docs/mechanisms.md): ibv_advise_mr with PREFETCH and FLUSH over
// the NIC's whole ODP MR at setup. The MR's pages fault in before the first send, odp_fault_max
// (4 MiB) at a time, so the data path takes no fault: 8 MiB is 2 faults at setup instead of one
// per 64 KiB access (128), and the send itself is as fast as a send over mapped pages.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/workload_compare.h"

namespace pciesim::test {
namespace {

nlohmann::json odp_workload(const std::string &nic_mr) {
  return {{"mechanisms", {"hmm_migrate", "hmm_p2p"}},
          {"nic_mr", nic_mr},
          {"iterations", 2},
          {"buffers", {{{"id", "buf"}, {"gpu", "gpu0"}, {"size", "8 MiB"}}}},
          {"phases",
           {{{"id", "send"},
             {"actor", "nic0"},
             {"op", "read"},
             {"buffer", "buf"},
             {"access_size", "64 KiB"},
             {"concurrency", 4}}}}};
}

TEST(OdpPrefetch, TheMrFaultsInAtSetupAndTheSendsTakeNoFault) {
  const nlohmann::json on_demand = compare("gpu-nic-root-ports-amd", odp_workload("odp"));
  const nlohmann::json prefetched = compare("gpu-nic-root-ports-amd", odp_workload("odp_prefetch"));
  for (const char *name : {"hmm_migrate", "hmm_p2p"}) {
    SCOPED_TRACE(name);
    const nlohmann::json &od = mechanism(on_demand, name), &pf = mechanism(prefetched, name);
    ASSERT_EQ(pf["status"], "ok") << pf["reason"];
    EXPECT_EQ(od["os"]["odp_faults"], 128); // one per 64 KiB access
    EXPECT_EQ(pf["os"]["odp_faults"], 2);   // 8 MiB in faults of 4 MiB, before the first send
    // The first send of the prefetched MR runs as the second (mapped) send does.
    EXPECT_NEAR(duration_ns(phase(pf, "send", 0)), duration_ns(phase(pf, "send", 1)),
                0.02 * duration_ns(phase(pf, "send", 1)));
    EXPECT_LT(duration_ns(phase(pf, "send", 0)), duration_ns(phase(od, "send", 0)));
    // The same pages move (E) or are peer-mapped (F) either way.
    EXPECT_EQ(pf["pages_to_ram"], od["pages_to_ram"]);
    EXPECT_EQ(pf["os"]["p2p_page_mappings"], od["os"]["p2p_page_mappings"]);
  }
}

} // namespace
} // namespace pciesim::test
