// The IOMMU's parameter and stat tables, its IOTLB and page-walk-cache lookups and its page
// walks (see the header).
#include "models/iommu/iommu.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

namespace pciesim {
namespace {

constexpr unsigned kPageShift4K = 12;
constexpr unsigned kBitsPerLevel = 9; // 512 eight-byte entries per 4 KiB table
constexpr std::uint64_t kTableBytes = 4096;
// Page tables other than the root are placed pseudo-randomly within this many 4 KiB slots
// (1 GiB) above the root; only their distinctness matters to the model.
constexpr std::uint64_t kTableSlots = std::uint64_t{1} << 18;

unsigned level_shift(int level) {
  return kPageShift4K + kBitsPerLevel * static_cast<unsigned>(level - 1);
}

// splitmix64's finaliser: a fixed, well-mixed function, so table placement is deterministic.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int leaf_level_for(Bytes page_size) {
  switch (page_size.count) {
  case std::uint64_t{1} << 12:
    return 1;
  case std::uint64_t{1} << 21:
    return 2;
  case std::uint64_t{1} << 30:
    return 3;
  default:
    throw std::invalid_argument(fmt::format(
        "iommu_page_size {} is not a page size of x86 IOMMU page tables (4 KiB, 2 MiB, 1 GiB)",
        format_bytes(page_size)));
  }
}

} // namespace

std::string iommu_mode_name(IommuMode mode) {
  switch (mode) {
  case IommuMode::Off:
    return "off";
  case IommuMode::Passthrough:
    return "passthrough";
  case IommuMode::Translated:
    return "translated";
  }
  return "off";
}

const StatTable<IommuStats> &IommuStats::table() {
  using S = IommuStats;
  static const StatTable<S> table({
      stat(&S::translations, {"translations", "count", "upstream requests translated"}),
      stat(&S::iotlb_hits, {"iotlb_hits", "count", "IOTLB hits of translations and ATS requests"}),
      stat(&S::iotlb_misses,
           {"iotlb_misses", "count", "IOTLB misses, including those that joined a walk in flight"}),
      stat(&S::walks, {"walks", "count", "page-table walks started"}),
      stat(&S::walk_memory_reads,
           {"walk_memory_reads", "count", "8-byte page-table reads issued by the walkers"}),
      stat(&S::pwc_hits, {"pwc_hits", "count",
                          "walks that started below the root thanks to the page-walk cache"}),
      stat(&S::walker_waits, {"walker_waits", "count",
                              "walks that queued because every walker was busy (or the serial "
                              "stage, iommu_walk_serial)"}),
      stat(&S::coalesced_misses,
           {"coalesced_misses", "count", "misses that joined a walk of the same page in flight"}),
      stat(&S::ats_translation_requests,
           {"ats_translation_requests", "count", "ATS Translation Requests translated"}),
      stat(&S::invalidations,
           {"invalidations", "count", "invalidation commands (range or global)"}),
  });
  return table;
}

const std::vector<ParamField<IommuParams>> &iommu_fields() {
  using P = IommuParams;
  static const std::vector<ParamField<P>> rows = {
      field(&P::mode, {"iommu",
                       ParamKind::choice,
                       "off",
                       "IOMMU mode for upstream DMA: off, passthrough (identity domain, iommu=pt), "
                       "or translated (IOVA through IOTLB and page walks)",
                       0,
                       0,
                       false,
                       false,
                       {"off", "passthrough", "translated"}}),
      field(&P::page_size,
            ParamSpec{"iommu_page_size", ParamKind::size, "4 KiB",
                      "IOMMU page size: 4 KiB, 2 MiB or 1 GiB (a larger page walks fewer levels)",
                      4096, 1 << 30, true}
                .with_check({[](const ParamSet &p) -> std::string {
                               try {
                                 leaf_level_for(p.bytes("iommu_page_size"));
                                 return "";
                               } catch (const std::invalid_argument &e) {
                                 return e.what();
                               }
                             },
                             "4 KiB, 2 MiB or 1 GiB"})),
      field(&P::iotlb_entries, {"iotlb_entries", ParamKind::integer, 64,
                                "IOTLB entries (the reach pcie-bench's IOMMU window sweeps show "
                                "on a Xeon E5 v3; an estimate elsewhere: docs/references.md)",
                                1, 1 << 20}),
      field(&P::iotlb_ways,
            ParamSpec{"iotlb_ways", ParamKind::integer, 0,
                      "IOTLB associativity; 0 = fully associative; must divide iotlb_entries", 0,
                      1 << 20, false, true}
                .with_check({[](const ParamSet &p) -> std::string {
                               std::int64_t ways = p.integer("iotlb_ways");
                               std::int64_t entries = p.integer("iotlb_entries");
                               if (ways != 0 && ways < entries && entries % ways != 0)
                                 return fmt::format(
                                     "iotlb_ways {} does not divide iotlb_entries {}", ways,
                                     entries);
                               return "";
                             },
                             "a divisor of iotlb_entries, or 0"})),
      field(&P::levels, {"iommu_levels", ParamKind::integer, 4,
                         "page-table levels for 4 KiB pages: 4, or 5 with LA57", 4, 5}),
      field(&P::pwc_entries,
            {"iommu_pwc_entries", ParamKind::integer, 32,
             "page-walk cache entries for upper-level (non-leaf) entries; 0 = none", 0, 1 << 20}),
      field(&P::walkers, {"iommu_walkers", ParamKind::integer, 4,
                          "page walks the IOMMU can run concurrently", 1, 1024}),
      field(&P::lookup_latency, {"iommu_lookup_latency", ParamKind::time, "5 ns",
                                 "IOTLB lookup, paid by every translation (estimate)", 0, 1e9}),
      field(&P::walk_overhead,
            {"iommu_walk_overhead", ParamKind::time, "200 ns",
             "fixed cost of a page walk besides its memory reads: with the leaf read of "
             "80 ns a typical miss adds 280 ns, as pcie-bench measured on Xeon E5 hosts "
             "(docs/references.md)",
             0, 1e9}),
      field(&P::walk_serial,
            ParamSpec{"iommu_walk_serial", ParamKind::time, "0 ns",
                      "the part of iommu_walk_overhead one walk at a time can take (the miss "
                      "handler's serial stage): walks start at least this far apart; 0 = none, "
                      "the walkers alone limit the miss rate",
                      0, 1e9}
                .with_check({[](const ParamSet &p) -> std::string {
                               Duration serial = p.duration("iommu_walk_serial");
                               Duration overhead = p.duration("iommu_walk_overhead");
                               if (serial.ps > overhead.ps)
                                 return "iommu_walk_serial is longer than iommu_walk_overhead, "
                                        "of which it is a part";
                               return "";
                             },
                             "at most iommu_walk_overhead"})),
      field(&P::invalidation_latency, {"iommu_invalidation_latency", ParamKind::time, "2 us",
                                       "IOTLB invalidation: command plus completion wait", 0, 1e9}),
  };
  return rows;
}

IommuParams IommuParams::from(const ParamSet &p) { return from_named_rows(iommu_fields(), p); }

Iommu::Iommu(const IommuParams &params, PageTableReader read_page_table_entry,
             std::uint64_t page_table_base)
    : params_(params), read_entry_(std::move(read_page_table_entry)),
      page_table_base_(page_table_base), leaf_level_(leaf_level_for(params.page_size)),
      iova_mask_((std::uint64_t{1} << level_shift(params.levels + 1)) - 1),
      iotlb_(static_cast<std::size_t>(std::max(params.iotlb_entries, 0)),
             static_cast<std::size_t>(std::max(params.iotlb_ways, 0)), params.page_size),
      pwc_(static_cast<std::size_t>(std::max(params.pwc_entries, 0)), 0, Bytes{1}),
      walkers_(static_cast<std::size_t>(std::max(params.walkers, 1))) {
  if (params.levels < 4 || params.levels > 5)
    throw std::invalid_argument(fmt::format("iommu_levels {} is not 4 or 5", params.levels));
  if (leaf_level_ >= params.levels)
    throw std::invalid_argument("IOMMU page size needs a page table of more levels");
  if (translates() && !read_entry_)
    throw std::invalid_argument("a translating IOMMU needs a page-table reader");
}

std::uint64_t Iommu::entry_address(int level, std::uint64_t iova) const {
  iova &= iova_mask_;
  std::uint64_t index = (iova >> level_shift(level)) & ((1u << kBitsPerLevel) - 1);
  std::uint64_t table = page_table_base_;
  if (level < params_.levels) {
    // The table holding this level's entry is identified by the iova bits above the level.
    std::uint64_t prefix = iova >> level_shift(level + 1);
    std::uint64_t slot = mix((static_cast<std::uint64_t>(level) << 56) ^ prefix) % kTableSlots;
    table += kTableBytes * (1 + slot);
  }
  return table + 8 * index;
}

std::uint64_t Iommu::pwc_key(int level, std::uint64_t iova) const {
  // An entry at `level` is found by the iova bits from the top down to that level's index;
  // the level sits above the at most 36 bits of that prefix (57-bit iova, level >= 2).
  return (static_cast<std::uint64_t>(level) << 58) | ((iova & iova_mask_) >> level_shift(level));
}

std::int64_t Iommu::translate(std::uint64_t iova, std::int64_t at_ps) {
  if (!translates())
    return at_ps;
  ++stats_.translations;
  return resolve(iova, at_ps);
}

std::int64_t Iommu::translation_request(std::uint64_t iova, std::int64_t at_ps) {
  if (!translates())
    return at_ps;
  ++stats_.ats_translation_requests;
  return resolve(iova, at_ps);
}

void Iommu::forget_finished_walks(std::int64_t at_ps) {
  // At most `walkers` walks are unfinished at any time, so the map stays small.
  if (walks_in_flight_.size() <= walkers_.size())
    return;
  for (auto it = walks_in_flight_.begin(); it != walks_in_flight_.end();)
    it = it->second <= at_ps ? walks_in_flight_.erase(it) : std::next(it);
}

std::int64_t Iommu::resolve(std::uint64_t iova, std::int64_t at_ps) {
  std::int64_t looked_up = at_ps + params_.lookup_latency.ps;
  std::uint64_t page = iotlb_.page_of(iova & iova_mask_);
  forget_finished_walks(at_ps);
  // A miss to a page whose walk is still running waits for that walk instead of starting
  // another (the IOTLB entry is installed when the walk starts, so it would look like a hit).
  auto in_flight = walks_in_flight_.find(page);
  if (in_flight != walks_in_flight_.end() && in_flight->second > looked_up) {
    ++stats_.iotlb_misses;
    ++stats_.coalesced_misses;
    return in_flight->second;
  }
  if (iotlb_.lookup(page)) {
    ++stats_.iotlb_hits;
    return looked_up;
  }
  ++stats_.iotlb_misses;
  std::int64_t ready = walk(iova & iova_mask_, looked_up);
  iotlb_.insert(page);
  walks_in_flight_[page] = ready;
  return ready;
}

std::int64_t Iommu::walk(std::uint64_t iova, std::int64_t at_ps) {
  // The walker that can start it first takes the walk; of walkers that can start it equally
  // soon, the one with the longest time before a later-due walk booked on it (the lowest
  // index on a tie).
  TimeOrderedServer *walker = nullptr;
  std::int64_t start = 0, room_until = 0;
  for (TimeOrderedServer &candidate : walkers_) {
    std::int64_t s = candidate.earliest_start(at_ps);
    std::int64_t room = candidate.next_later_start(at_ps);
    if (!walker || s < start || (s == start && room > room_until)) {
      walker = &candidate;
      start = s;
      room_until = room;
    }
  }
  // The serial stage takes one walk at a time: a walk starts once a walker and the stage are
  // both free. Its time is part of walk_overhead, so a walk alone takes no longer for it.
  if (params_.walk_serial.ps > 0) {
    start = std::max(start, serial_stage_.earliest_start(at_ps));
    serial_stage_.book(at_ps, start, start + params_.walk_serial.ps);
  }
  if (start > at_ps)
    ++stats_.walker_waits;
  std::int64_t t = start;
  ++stats_.walks;
  t += params_.walk_overhead.ps;
  // The deepest cached non-leaf entry says where the next table is; start reading below it.
  int first_read_level = params_.levels;
  for (int level = leaf_level_ + 1; level <= params_.levels; ++level) {
    if (pwc_.lookup(pwc_key(level, iova))) {
      ++stats_.pwc_hits;
      first_read_level = level - 1;
      break;
    }
  }
  // Each read needs the previous one's result (the next table's address): serial.
  for (int level = first_read_level; level >= leaf_level_; --level) {
    t = read_entry_(entry_address(level, iova), t);
    ++stats_.walk_memory_reads;
    if (level > leaf_level_)
      pwc_.insert(pwc_key(level, iova));
  }
  walker->book(at_ps, start, t);
  return t;
}

void Iommu::forget_before(std::int64_t now_ps) {
  for (TimeOrderedServer &walker : walkers_)
    walker.forget_before(now_ps);
  serial_stage_.forget_before(now_ps);
}

std::int64_t Iommu::invalidate(std::uint64_t iova, std::uint64_t bytes, std::int64_t at_ps) {
  if (!translates() || bytes == 0)
    return at_ps;
  ++stats_.invalidations;
  iova &= iova_mask_;
  std::uint64_t last = std::min(iova_mask_ - iova, bytes - 1) + iova;
  iotlb_.invalidate(iova, last - iova + 1);
  for (int level = leaf_level_ + 1; level <= params_.levels; ++level)
    pwc_.invalidate_pages(pwc_key(level, iova), pwc_key(level, last));
  std::uint64_t first_page = iotlb_.page_of(iova);
  std::uint64_t last_page = iotlb_.page_of(last);
  walks_in_flight_.erase(walks_in_flight_.lower_bound(first_page),
                         walks_in_flight_.upper_bound(last_page));
  return at_ps + params_.invalidation_latency.ps;
}

std::int64_t Iommu::invalidate_all(std::int64_t at_ps) {
  if (!translates())
    return at_ps;
  ++stats_.invalidations;
  iotlb_.invalidate_all();
  pwc_.invalidate_all();
  walks_in_flight_.clear();
  return at_ps + params_.invalidation_latency.ps;
}

} // namespace pciesim
