// What a person sees: reports rendered by headless Chromium. The default comparison's report
// (the main job's) and a sweep's must load without console errors, have no empty section and
// no chart saying "no data", and keep every text of every picture inside the picture's frame
// (measured by the browser's own layout, through a copy of the page with a checking script
// added: the report itself has no scripts); each renders into a screenshot that is a real
// picture. Skipped where Chromium is absent (CI installs it; see .ci/run).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"
#include "tests/support/xml_query.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

const std::string kChromium = "/usr/bin/chromium";
const std::string kSource = PCIESIM_SOURCE_DIR;

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

std::string chromium(const std::string &profile, const std::string &arguments) {
  return "timeout 120 " + kChromium +
         " --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=" + profile +
         " --enable-logging=stderr --v=0 " + arguments;
}

// Checks run in the browser after layout: every <text> of every <svg> inside the svg's box
// (rotated labels by their bounding box), each finding on a line of <pre id="layout-check">.
const char *kLayoutCheck = R"(<script>
window.addEventListener('load', () => {
  const found = [];
  let texts = 0;
  for (const svg of document.querySelectorAll('svg')) {
    const frame = svg.getBoundingClientRect();
    const title = svg.querySelector('title');
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      ++texts;
      if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5 ||
          r.top < frame.top - 0.5 || r.bottom > frame.bottom + 0.5)
        found.push('outside its frame in "' + (title ? title.textContent : '?') + '": "' +
                   t.textContent + '"');
    }
  }
  const pre = document.createElement('pre');
  pre.id = 'layout-check';
  pre.textContent = 'texts ' + texts + '\n' + found.join('\n');
  document.body.appendChild(pre);
});
</script>
)";

struct BrowserCheck {
  int texts = 0;                     // texts measured
  std::vector<std::string> findings; // texts outside their frame
  std::string log;                   // Chromium's stderr
};

BrowserCheck check_layout(const std::string &dir, const std::string &report) {
  std::string page = read_file(report);
  std::string checked = dir + "/checked.html";
  std::size_t body_end = page.rfind("</body>");
  EXPECT_NE(body_end, std::string::npos);
  std::ofstream(checked) << page.substr(0, body_end) << kLayoutCheck << page.substr(body_end);
  CommandResult r = run_command(
      chromium(dir + "/profile-check", "--virtual-time-budget=10000 --dump-dom file://" + checked));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  BrowserCheck c;
  c.log = r.err;
  std::size_t start = r.out.find("<pre id=\"layout-check\">");
  EXPECT_NE(start, std::string::npos) << "the checking script did not run";
  if (start == std::string::npos)
    return c;
  std::istringstream lines(r.out.substr(start + 23, r.out.find("</pre>", start) - start - 23));
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind("texts ", 0) == 0)
      c.texts = std::stoi(line.substr(6));
    else if (!line.empty())
      c.findings.push_back(line);
  return c;
}

// Every section shows something: a chart, a table or a paragraph, and no chart is empty.
void expect_no_empty_section(const std::string &report) {
  XmlDocument doc(read_file(report), true);
  ASSERT_TRUE(doc.ok());
  auto sections = doc.select("//section");
  EXPECT_GE(sections.size(), 5u);
  for (xmlNodePtr s : sections) {
    std::string id = XmlDocument::attribute(s, "id");
    EXPECT_FALSE(doc.select("//section[@id='" + id + "']//figure/svg | //section[@id='" + id +
                            "']//table//td")
                     .empty())
        << "section " << id << " shows neither a chart nor a table";
  }
  EXPECT_TRUE(doc.select("//svg//text[normalize-space(.)='no data']").empty());
}

void expect_screenshot(const std::string &dir, const std::string &report, int width, int height) {
  std::string png = dir + "/report.png";
  CommandResult shot = run_command(chromium(
      dir + "/profile", "--window-size=" + std::to_string(width) + "," + std::to_string(height) +
                            " --screenshot=" + png + " file://" + report));
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  EXPECT_EQ(page_errors(shot.err), std::vector<std::string>()) << shot.err;
  std::string image = read_file(png);
  ASSERT_GT(image.size(), 20u * 1024) << "an almost empty screenshot";
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(image.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian(image, 16), static_cast<std::uint32_t>(width));
  EXPECT_EQ(big_endian(image, 20), static_cast<std::uint32_t>(height));
}

TEST(ReportBrowser, DefaultComparisonReportHasNoEmptySectionAndNoClippedLabel) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is absent (apt-get install chromium to run this test)";
  std::string dir = make_temp_dir("browser");
  CommandResult run =
      run_pciesim("run " + kSource + "/scenarios/default.json --quiet --out " + dir + "/run");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run_pciesim("report " + dir + "/run").exit_code, 0);
  std::string report = dir + "/run/report.html";
  expect_no_empty_section(report);
  // The sections the main job's question needs, in the order a reader wants them.
  std::string html = read_file(report);
  std::size_t verdict = html.find("<section id=\"verdict\">"),
              breakdown = html.find("<section id=\"breakdown\">"),
              topologies = html.find("<section id=\"topologies\">");
  EXPECT_LT(verdict, breakdown);
  EXPECT_LT(breakdown, topologies);
  EXPECT_NE(topologies, std::string::npos);
  BrowserCheck c = check_layout(dir, report);
  EXPECT_GT(c.texts, 100) << "too few texts measured: " << c.texts;
  EXPECT_EQ(c.findings, std::vector<std::string>());
  EXPECT_EQ(page_errors(c.log), std::vector<std::string>()) << c.log;
  expect_screenshot(dir, report, 1280, 2000);
}

TEST(ReportBrowser, SweepReportRendersInHeadlessChromium) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is absent (apt-get install chromium to run this test)";
  std::string dir = make_temp_dir("browser");
  CommandResult sweep =
      run_pciesim("sweep " + kSource + "/scenarios/sweeps/dma-size-gen.json -j 2 --quiet --out " +
                  dir + "/sweep");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  for (const char *f : {"results.csv", "results.json", "report.html", "report.md"})
    EXPECT_TRUE(fs::is_regular_file(dir + "/sweep/" + f)) << f;
  std::string report = dir + "/sweep/report.html";
  expect_no_empty_section(report);
  BrowserCheck c = check_layout(dir, report);
  EXPECT_GT(c.texts, 50) << "too few texts measured: " << c.texts;
  EXPECT_EQ(c.findings, std::vector<std::string>());
  expect_screenshot(dir, report, 1280, 2000);
}

} // namespace
} // namespace pciesim::test
