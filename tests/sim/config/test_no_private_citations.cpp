// Users of pciesim have only the repository, so nothing in it may cite the team's private
// design notes (their modelling and kernel-semantics notes, their reference data and
// benchmarks, kept beside the repository): a source is named by what a reader can follow
// (a specification section, a kernel source file, a paper) or by a page under docs/. This
// test scans the repository's text files (docs, code, tests, schemas, input files) for such
// citations. The patterns are split into pieces so that this file does not match itself.
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

namespace fs = std::filesystem;

// Names of the private notes, and the relative path that reaches them from the repository.
const std::vector<std::string> &private_citations() {
  static const std::vector<std::string> patterns = {
      std::string("MODELING") + ".md",
      std::string("linux-") + "semantics",
      std::string("ecosystem") + ".md",
      std::string("../") + "shared",
  };
  return patterns;
}

bool is_scanned_text_file(const fs::path &path) {
  static const std::vector<std::string> extensions = {
      ".md", ".h", ".cpp", ".json", ".txt", ".yml", ".yaml", ".py", ".sh", ".csv", ".cmake"};
  std::string ext = path.extension().string();
  for (const std::string &e : extensions)
    if (ext == e)
      return true;
  return path.filename() == "CMakeLists.txt";
}

TEST(Docs, NoPrivateCitations) {
  const fs::path root(PCIESIM_SOURCE_DIR);
  const std::vector<std::string> scanned = {
      "docs",  "models",    "sim",     "tests",      "schemas", "topologies", "scenarios",
      "bench", "platforms", "drivers", "validation", "ci",      "scripts",    "cmake"};
  int files = 0;
  std::vector<std::string> offenders;
  auto scan = [&](const std::string &relative) {
    std::string text = read_repo_file(relative);
    ++files;
    for (const std::string &pattern : private_citations())
      if (text.find(pattern) != std::string::npos)
        offenders.push_back(fmt::format("{} cites {}", relative, pattern));
  };
  for (const std::string &dir : scanned) {
    if (!fs::is_directory(root / dir))
      continue;
    for (const fs::directory_entry &entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file() || !is_scanned_text_file(entry.path()))
        continue;
      scan(fs::relative(entry.path(), root).string());
    }
  }
  scan("README.md");
  scan("CMakeLists.txt");
  EXPECT_GT(files, 100) << "the scan found too few files to mean anything";
  std::string listing;
  for (const std::string &offender : offenders)
    listing += offender + "\n";
  EXPECT_TRUE(offenders.empty()) << "cite the primary source or docs/references.md instead:\n"
                                 << listing;
}

} // namespace
} // namespace pciesim::test
