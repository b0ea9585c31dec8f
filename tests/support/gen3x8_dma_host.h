// A scenario of one dma_engine on a Gen3 x8 root port (MPS 256 B) reading or writing host
// memory: the pcie-bench setup, for tests of the device-side DMA costs. `dma_params` are the
// engine's parameters as JSON members ("" for its defaults).
#pragma once

#include <string>

#include <fmt/format.h>

namespace pciesim::test {

inline std::string gen3x8_dma_host(const std::string &dma_params, const std::string &direction,
                                   unsigned size_bytes, unsigned long count, int concurrency) {
  return fmt::format(R"({{
    "topology": {{
      "fabric": {{"mps": "256 B"}},
      "components": [
        {{"id": "rc0", "type": "root_complex", "params": {{"root_ports": 1}}}},
        {{"id": "mem0", "type": "host_memory", "root_complex": "rc0"}},
        {{"id": "dma0", "type": "dma_engine", "params": {{{}}}}}
      ],
      "links": [{{"between": ["rc0.rp0", "dma0"], "params": {{"gen": 3, "width": 8}}}}]
    }},
    "transfers": [{{"id": "t", "initiator": "dma0", "target": "mem0", "direction": "{}",
                   "size": "{} B", "count": {}, "concurrency": {}}}]
  }})",
                     dma_params, direction, size_bytes, count, concurrency);
}

} // namespace pciesim::test
