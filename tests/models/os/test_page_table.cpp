// The page table of one buffer as pure data: frame allocators hand out the lowest free
// frame, a page moves between memories by taking a new frame and freeing its old one, the
// conservation check sees every page in exactly one frame, and a notifier subscription's
// sequence tells a reader whether an invalidation raced with it.
#include <gtest/gtest.h>

#include "models/os/page_table.h"

namespace pciesim {
namespace {

TEST(FrameAllocator, HandsOutTheLowestFreeFrameAndStopsWhenFull) {
  FrameAllocator frames(3, 1); // frame 0 in use from the start
  std::uint32_t f = 99;
  ASSERT_TRUE(frames.allocate(f));
  EXPECT_EQ(f, 1u);
  ASSERT_TRUE(frames.allocate(f));
  EXPECT_EQ(f, 2u);
  EXPECT_FALSE(frames.allocate(f));
  frames.release(2);
  frames.release(0);
  EXPECT_EQ(frames.in_use(), 1u);
  ASSERT_TRUE(frames.allocate(f));
  EXPECT_EQ(f, 0u); // the lowest released, not the last
  ASSERT_TRUE(frames.allocate(f));
  EXPECT_EQ(f, 2u);
}

TEST(PageTable, PagesStartInTheirInitialMemoryAtTheFrameOfTheirIndex) {
  PageTable table(4, 4096, PageHome::Device, 4, 4);
  const PageTable &view = table;
  EXPECT_EQ(view.page(3).home, PageHome::Device);
  EXPECT_EQ(view.page(3).frame, 3u);
  EXPECT_TRUE(view.page(3).gpu_mapped); // a GPU-produced buffer starts mapped by the GPU
  EXPECT_FALSE(view.page(3).cpu_mapped);
  EXPECT_EQ(table.pages_in(PageHome::Device), 4u);
  EXPECT_EQ(table.pages_in(PageHome::SystemRam), 0u);
  EXPECT_TRUE(table.check().empty());
}

TEST(PageTable, AMoveTakesANewFrameThereAndFreesTheOldOne) {
  PageTable table(4, 4096, PageHome::Device, 4, 4);
  ASSERT_TRUE(table.move(2, PageHome::SystemRam));
  EXPECT_EQ(table.page(2).home, PageHome::SystemRam);
  EXPECT_EQ(table.page(2).frame, 0u); // the first RAM frame
  ASSERT_TRUE(table.move(1, PageHome::SystemRam));
  EXPECT_EQ(table.page(1).frame, 1u);
  EXPECT_EQ(table.pages_in(PageHome::SystemRam), 2u);
  EXPECT_TRUE(table.check().empty());
  // Back to the device: the lowest freed device frame (1, page 1's old one).
  ASSERT_TRUE(table.move(2, PageHome::Device));
  EXPECT_EQ(table.page(2).frame, 1u);
  EXPECT_TRUE(table.check().empty());
  EXPECT_TRUE(table.move(2, PageHome::Device)); // already there: nothing to do
}

TEST(PageTable, AMoveFailsWhenTheTargetMemoryIsFull) {
  PageTable table(2, 4096, PageHome::Device, 1, 2); // room in RAM for one page only
  ASSERT_TRUE(table.move(0, PageHome::SystemRam));
  EXPECT_FALSE(table.move(1, PageHome::SystemRam));
  EXPECT_EQ(table.page(1).home, PageHome::Device); // unchanged
  EXPECT_EQ(table.page(1).frame, 1u);
  EXPECT_TRUE(table.check().empty());
}

TEST(PageTable, CheckReportsAPageLeftMigratingAndTwoPagesSharingAFrame) {
  PageTable table(4, 4096, PageHome::Device, 4, 4);
  table.page(0).migrating = true;
  table.page(1).frame = 2; // page 2 holds device frame 2 too
  std::vector<std::string> violations = table.check();
  ASSERT_EQ(violations.size(), 2u);
  std::string all = violations[0] + "\n" + violations[1];
  EXPECT_NE(all.find("page 0: still migrating"), std::string::npos) << all;
  EXPECT_NE(all.find("pages 1 and 2 share device frame 2"), std::string::npos) << all;
}

TEST(PageTable, ANotifierSequenceTellsAReaderThatAnInvalidationRaced) {
  PageTable table(4, 4096, PageHome::Device, 4, 4);
  int nic = table.subscribe("nic0");
  int gpu = table.subscribe("gpu0");
  std::uint64_t seq = table.read_begin(nic);
  EXPECT_FALSE(table.read_retry(nic, seq));
  table.invalidated(nic);
  EXPECT_TRUE(table.read_retry(nic, seq));
  EXPECT_FALSE(table.read_retry(gpu, table.read_begin(gpu))); // others are unaffected
  EXPECT_EQ(table.subscriptions()[static_cast<std::size_t>(nic)].owner, "nic0");
}

} // namespace
} // namespace pciesim
