// `pciesim SUBCOMMAND --help` shows every option's default, taken by CLI11 from the variable the
// option fills (so the help cannot drift from the code), and nothing where there is none worth
// showing (an empty list).
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// The help line of `option` (and the next, where CLI11 wraps the description).
std::string help_of(const std::string &help, const std::string &option) {
  std::size_t at = help.find("  " + option);
  if (at == std::string::npos)
    return "(no " + option + ")";
  return help.substr(at, help.find('\n', help.find('\n', at) + 1) - at);
}

TEST(Help, EverySubcommandShowsItsDefaults) {
  CommandResult run = run_pciesim("run --help");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(help_of(run.out, "-j,--jobs").find("=2"), std::string::npos) << run.out;
  EXPECT_NE(help_of(run.out, "--timeout").find("=none"), std::string::npos) << run.out;
  EXPECT_NE(help_of(run.out, "--trace-max-events").find("=200000"), std::string::npos);
  for (const char *command : {"sweep", "check"}) {
    CommandResult r = run_pciesim(std::string(command) + " --help");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(help_of(r.out, "-j,--jobs").find("=1"), std::string::npos) << command << r.out;
  }
  CommandResult sweep = run_pciesim("sweep --help");
  EXPECT_NE(help_of(sweep.out, "--array").find("=points, <= 64"), std::string::npos) << sweep.out;
  for (const char *command :
       {"run", "topo", "validate", "sweep", "merge", "report", "describe", "check"}) {
    CommandResult r = run_pciesim(std::string(command) + " --help");
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.err;
    EXPECT_EQ(r.out.find("=[]"), std::string::npos) << command << ":\n" << r.out;
    EXPECT_EQ(r.out.find("(default"), std::string::npos) << command << ": said twice\n" << r.out;
  }
}

} // namespace
} // namespace pciesim::test
