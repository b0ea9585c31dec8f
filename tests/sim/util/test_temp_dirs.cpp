// The suite's temporary directories (make_temp_dir) go when the test process that made them
// exits: the suite once left some 19,000 behind in /tmp.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// Runs `body` in a forked child that ends with exit() (static destructors run, as when a test
// program ends) and returns what it wrote to the pipe.
template <class Body> std::string in_exiting_child(Body body) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string out = body();
    if (::write(fds[1], out.data(), out.size()) != static_cast<ssize_t>(out.size()))
      std::_Exit(1);
    ::close(fds[1]);
    std::exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return out;
}

TEST(TempDirs, ADirectoryGoesWithAllItHoldsWhenItsProcessExits) {
  // The parent's list exists before the fork: the child's copy tells its own apart.
  const std::string parents = make_temp_dir("temp-dirs");
  const std::string dir = in_exiting_child([] {
    const std::string made = make_temp_dir("temp-dirs");
    std::filesystem::create_directories(made + "/a/b");
    std::ofstream(made + "/a/b/file") << "x";
    return made;
  });
  ASSERT_FALSE(dir.empty());
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_TRUE(std::filesystem::is_directory(parents)) << parents;
}

TEST(TempDirs, AChildThatExitsLeavesItsParentsDirectories) {
  const std::string dir = make_temp_dir("temp-dirs");
  in_exiting_child([] { return std::string("done"); });
  EXPECT_TRUE(std::filesystem::is_directory(dir)) << dir;
}

} // namespace
} // namespace pciesim::test
