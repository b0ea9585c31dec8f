#include "sim/run/mechanisms/dmabuf.h"

namespace pciesim {
namespace {

class DmabufP2p final : public MechanismPolicy {
public:
  using MechanismPolicy::MechanismPolicy;

  Refusal peer_refused(const P2pVerdict &) const override {
    return {false, "p2pdma distance < 0: the exporter placed the buffer in system memory"};
  }

  std::int64_t setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                            const SetupHold &hold) override {
    OsKernel &kernel = context_.kernel;
    const OsCosts &c = kernel.costs();
    PageTable &table = *context_.tables[buffer];
    std::int64_t end_ps = at_ps + c.dmabuf_attach.ps +
                          static_cast<std::int64_t>(table.page_count()) * c.dma_map_page.ps;
    kernel.record(TimeKind::Setup, at_ps, end_ps);
    if (context_.peer_ok(peer, static_cast<int>(buffer))) {
      table.pin_all(); // the exporter pins the buffer where it is (dma_buf_pin): never evicted
      return end_ps;
    }
    // The exporter evicts the buffer to GTT (system memory).
    std::vector<std::uint64_t> device;
    for (std::uint64_t i = 0; i < table.page_count(); ++i)
      if (table.page(i).home == PageHome::Device)
        device.push_back(i);
    Done done = hold();
    kernel.call_at(end_ps, [this, buffer, device, done] {
      context_.drivers[buffer]->move_pages(device, PageHome::SystemRam,
                                           [this, n = device.size(), done](std::int64_t at) {
                                             context_.kernel.stats().pages_to_ram += n;
                                             done(at);
                                           });
    });
    return end_ps;
  }
};

} // namespace

std::unique_ptr<MechanismPolicy> make_dmabuf_p2p(MechanismContext &context) {
  return std::make_unique<DmabufP2p>(context);
}

} // namespace pciesim
