// Same inputs, same output bytes: every shipped scenario runs twice in separate processes
// and its results.json, results.csv and links.csv must be byte-identical. Wall-clock time is
// kept apart in run-info.json and is not compared.
#include <dirent.h>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

std::vector<std::string> shipped_scenarios() {
  std::vector<std::string> out;
  std::string dir = std::string(PCIESIM_SOURCE_DIR) + "/scenarios";
  DIR *d = opendir(dir.c_str());
  while (dirent *e = d ? readdir(d) : nullptr) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".json")
      out.push_back(dir + "/" + name);
  }
  if (d)
    closedir(d);
  return out;
}

TEST(Determinism, EveryShippedScenarioGivesIdenticalBytesTwice) {
  std::vector<std::string> scenarios = shipped_scenarios();
  ASSERT_GE(scenarios.size(), 3u);
  for (const std::string &s : scenarios) {
    std::string da = make_temp_dir("det"), db = make_temp_dir("det");
    ASSERT_EQ(run_pciesim("run " + s + " --quiet --out " + da).exit_code, 0) << s;
    ASSERT_EQ(run_pciesim("run " + s + " --quiet --out " + db).exit_code, 0) << s;
    for (const char *f : {"results.json", "results.csv", "links.csv"})
      EXPECT_EQ(read_file(da + "/" + f), read_file(db + "/" + f)) << s << " " << f;
    EXPECT_FALSE(read_file(da + "/results.json").empty());
  }
}

} // namespace
} // namespace pciesim::test
