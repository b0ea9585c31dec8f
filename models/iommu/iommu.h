// Timing model of an IOMMU unit in a root complex (an Intel VT-d or AMD-Vi remapping unit; its
// defaults and their sources are in docs/references.md, "IOMMU"): an IOTLB, a page-walk
// cache for upper-level entries, and a pool of page-table walkers whose memory reads are
// served by the owner's host memory. Each walker is a TimeOrderedServer: walks are booked
// when their request arrives, which is not always in the order they are due (an ATS
// Translation Request is due a host-bridge trip after it arrives, a translation at once), and a
// walk due sooner is never queued behind one booked earlier but due later. The walkers' reads
// overlap in host memory, whose channels serve them in time order too, so N walkers sustain N
// walks at a time. Translation is identity (IOVA = bus address = physical
// address): the simulator moves no data, so only *when* a translation is ready matters.
// Plain class, no SystemC: the owner calls it with integer picosecond times and uses the
// returned completion times.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/common/params.h"
#include "models/common/stats.h"
#include "models/common/time_ordered_server.h"
#include "models/iommu/translation_cache.h"

namespace pciesim {

enum class IommuMode {
  Off,         // no IOMMU: DMA addresses are physical, nothing is checked or cached
  Passthrough, // identity domain (iommu=pt): no translation cost, but the IOMMU is on
  Translated,  // DMA domain: every upstream request is translated through IOTLB and walks
};
std::string iommu_mode_name(IommuMode mode); // "off", "passthrough", "translated"

// Defaults: docs/references.md, "IOMMU". Walk-cost arithmetic for the default walk overhead:
// pcie-bench (Neugebauer et al., SIGCOMM 2018) measured that an IOTLB miss adds 230-290 ns
// (about 280 ns) on Xeon E5 hosts, sweeping buffers whose upper page-table levels stay in the
// page-walk cache, so a typical miss reads only the leaf entry: 200 ns overhead (walker
// dispatch and the trip through the uncore/host bridge to the memory controller and back) +
// 1 × 80 ns DRAM read = 280 ns. A cold 4-level walk costs 200 + 4 × 80 = 520 ns. (4 serial
// 80 ns reads alone exceed 280 ns, so the measured figure cannot be a cold walk.)
struct IommuParams {
  IommuMode mode = IommuMode::Off;
  Bytes page_size{4096}; // 4 KiB, 2 MiB or 1 GiB
  int iotlb_entries = 64;
  int iotlb_ways = 0; // 0 = fully associative
  int levels = 4;     // 4-level, or 5-level (LA57) page tables
  int pwc_entries = 32;
  int walkers = 4;
  Duration lookup_latency{5000};  // IOTLB hit
  Duration walk_overhead{200000}; // fixed cost of each walk, besides its memory reads
  // The part of that fixed cost one walk at a time can take (the miss handler's serial stage):
  // walks start at least this far apart. 0: none, walks are limited by the walkers alone.
  Duration walk_serial{0};
  Duration invalidation_latency{2000000}; // invalidation command + completion wait

  // From the iommu rows of a table that nests them (the root complex's), by name.
  static IommuParams from(const ParamSet &params);
};

// The iommu_* rows of a component's table (the root complex's), with their cross-field rules
// (a page size of x86 page tables; iotlb_ways divides iotlb_entries).
const std::vector<ParamField<IommuParams>> &iommu_fields();

struct IommuStats {
  std::uint64_t translations = 0;      // upstream requests translated
  std::uint64_t iotlb_hits = 0;        // of translations and ATS requests
  std::uint64_t iotlb_misses = 0;      // including those that joined a walk in flight
  std::uint64_t walks = 0;             // page-table walks started
  std::uint64_t walk_memory_reads = 0; // 8-byte page-table reads issued by the walkers
  std::uint64_t pwc_hits = 0;          // walks that started below the root thanks to the PWC
  std::uint64_t walker_waits = 0;      // walks that queued: every walker (or the serial stage) busy
  std::uint64_t coalesced_misses = 0;  // misses that joined a walk of the same page in flight
  std::uint64_t ats_translation_requests = 0;
  std::uint64_t invalidations = 0; // invalidation commands (range or global)
  static const StatTable<IommuStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

// Reads one 8-byte page-table entry at `pt_address` issued at `at_ps`; returns when the data
// is back at the walker. The owner routes it to its host memory.
using PageTableReader = std::function<std::int64_t(std::uint64_t pt_address, std::int64_t at_ps)>;

class Iommu {
public:
  Iommu(const IommuParams &params, PageTableReader read_page_table_entry,
        std::uint64_t page_table_base);

  // The IOMMU is on (passthrough or translated): the kernel then enables ACS on capable ports.
  bool enabled() const { return params_.mode != IommuMode::Off; }
  // Upstream requests pay translation time (translated mode only).
  bool translates() const { return params_.mode == IommuMode::Translated; }

  // Time the translation of `iova` is ready for a request arriving at `at_ps`: the IOTLB
  // lookup, plus on a miss a page walk (after waiting for a free walker). Off and passthrough
  // return at_ps unchanged.
  std::int64_t translate(std::uint64_t iova, std::int64_t at_ps);
  // Service time of an ATS Translation Request inside the IOMMU (the PCIe round trip is the
  // caller's): the same lookup and walk, counted as ats_translation_requests. Off and
  // passthrough return at_ps (no translation work).
  std::int64_t translation_request(std::uint64_t iova, std::int64_t at_ps);
  // Unmap of [iova, iova + bytes): drops the IOTLB entries and the page-walk-cache entries
  // covering the range (as a page-selective invalidation does) at once, and returns when the
  // command's completion wait is over. Device ATCs are the caller's to invalidate.
  std::int64_t invalidate(std::uint64_t iova, std::uint64_t bytes, std::int64_t at_ps);
  std::int64_t invalidate_all(std::int64_t at_ps);
  // The owner promises that no request will be due before `now_ps`: walker bookings that
  // ended by then are dropped (it changes no answer, only the memory kept).
  void forget_before(std::int64_t now_ps);

  const IommuParams &params() const { return params_; }
  const IommuStats &stats() const { return stats_; }
  const TranslationCache &iotlb() const { return iotlb_; }
  const TranslationCache &page_walk_cache() const { return pwc_; }
  // Address of the page-table entry at `level` (1 = leaf of a 4 KiB page) for `iova`: a
  // deterministic function of the iova bits above that level, so neighbouring pages share
  // their upper-level entries.
  std::uint64_t entry_address(int level, std::uint64_t iova) const;
  // How many page-table levels a walk reads without any page-walk-cache hit.
  int walk_levels() const { return params_.levels - leaf_level_ + 1; }

private:
  std::int64_t resolve(std::uint64_t iova, std::int64_t at_ps);
  std::int64_t walk(std::uint64_t iova, std::int64_t at_ps);
  std::uint64_t pwc_key(int level, std::uint64_t iova) const;
  void forget_finished_walks(std::int64_t at_ps);

  IommuParams params_;
  PageTableReader read_entry_;
  std::uint64_t page_table_base_;
  int leaf_level_;          // 1 for 4 KiB pages, 2 for 2 MiB, 3 for 1 GiB
  std::uint64_t iova_mask_; // the address width the page tables cover (48 or 57 bits)
  TranslationCache iotlb_;  // keyed by page number
  TranslationCache pwc_;    // keyed by pwc_key(level, iova) of non-leaf entries
  std::vector<TimeOrderedServer> walkers_;
  TimeOrderedServer serial_stage_; // with walk_serial > 0: held by each walk as it starts
  std::map<std::uint64_t, std::int64_t> walks_in_flight_; // page -> ready time
  IommuStats stats_;
};

} // namespace pciesim
