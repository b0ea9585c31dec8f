// What a person sees: the 24-point sweep's report.html rendered by headless Chromium, without
// console errors, into a screenshot that is a real picture. Skipped where Chromium is absent
// (CI installs it; see .ci/run).
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

const std::string kChromium = "/usr/bin/chromium";

std::uint32_t big_endian(const std::string &bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v = v << 8 | static_cast<unsigned char>(bytes.at(at + i));
  return v;
}

// Lines of Chromium's log that are about the page: its console and uncaught exceptions.
std::vector<std::string> page_errors(const std::string &log) {
  std::vector<std::string> found;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos ||
        line.find("Failed to load resource") != std::string::npos)
      found.push_back(line);
  return found;
}

TEST(ReportBrowser, SweepReportRendersInHeadlessChromium) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is absent (apt-get install chromium to run this test)";
  std::string dir = make_temp_dir("browser");
  CommandResult sweep =
      run_pciesim("sweep " + std::string(PCIESIM_SOURCE_DIR) +
                  "/scenarios/sweeps/dma-size-gen.json -j 2 --quiet --out " + dir + "/sweep");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  for (const char *f : {"results.csv", "results.json", "report.html", "report.md"})
    EXPECT_TRUE(fs::is_regular_file(dir + "/sweep/" + f)) << f;

  std::string png = dir + "/report.png";
  CommandResult shot =
      run_command("timeout 120 " + kChromium +
                  " --headless=new --no-sandbox --disable-gpu --user-data-dir=" + dir +
                  "/profile --enable-logging=stderr --v=0 --screenshot=" + png +
                  " --window-size=1280,2000 file://" + dir + "/sweep/report.html");
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  EXPECT_EQ(page_errors(shot.err), std::vector<std::string>()) << shot.err;
  std::string image = read_file(png);
  ASSERT_GT(image.size(), 20u * 1024) << "an almost empty screenshot";
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(image.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian(image, 16), 1280u);
  EXPECT_EQ(big_endian(image, 20), 2000u);
}

} // namespace
} // namespace pciesim::test
