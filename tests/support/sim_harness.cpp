#include "tests/support/sim_harness.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "sim/plan/scenario.h"
#include "sim/report/report.h"
#include "sim/run/simulation.h"

namespace pciesim::test {

std::string run_in_child(const std::function<std::string()> &body) {
  int fds[2];
  if (pipe(fds) != 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    char status = 'o';
    try {
      out = body();
    } catch (const std::exception &e) {
      status = 'e';
      out = e.what();
    }
    out.insert(out.begin(), status);
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0)
        break;
      done += static_cast<std::size_t>(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  std::array<char, 65536> buffer{};
  ssize_t n;
  while ((n = read(fds[0], buffer.data(), buffer.size())) > 0)
    text.append(buffer.data(), static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty())
    throw std::runtime_error("test child process failed");
  if (text[0] == 'e')
    throw std::runtime_error("in child: " + text.substr(1));
  return text.substr(1);
}

nlohmann::json simulate_in_child(const std::string &scenario_json) {
  return nlohmann::json::parse(run_in_child([&] {
    ScenarioConfig s = load_scenario(Node::root(parse_json_text(scenario_json, "<test scenario>")),
                                     PCIESIM_SOURCE_DIR);
    return result_json(simulate(s)).dump();
  }));
}

nlohmann::json simulate_in_child(const nlohmann::json &scenario) {
  return simulate_in_child(scenario.dump());
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_repo_file(const std::string &relative_path) {
  std::string path = std::string(PCIESIM_SOURCE_DIR) + "/" + relative_path;
  if (!std::ifstream(path))
    throw std::runtime_error("cannot read " + relative_path);
  return read_file(path);
}

namespace {

// The directories the test processes made, each removed when the process that made it exits:
// a forked child that exits normally runs the same destructor on its copy of the list, and
// removes only those it made itself.
class TempDirs {
public:
  void add(const std::string &path) { made_.push_back({getpid(), path}); }
  ~TempDirs() {
    for (const auto &[maker, path] : made_) {
      if (maker != getpid())
        continue;
      std::error_code ignored; // a test may have made its directory unremovable on purpose
      std::filesystem::remove_all(path, ignored);
    }
  }

private:
  std::vector<std::pair<pid_t, std::string>> made_;
};

TempDirs &temp_dirs() {
  static TempDirs dirs;
  return dirs;
}

} // namespace

std::string make_temp_dir(const std::string &prefix) {
  TempDirs &dirs = temp_dirs(); // built before the first directory, so destroyed after its users
  std::string pattern = "/tmp/pciesim-" + prefix + "-XXXXXX";
  std::vector<char> path(pattern.begin(), pattern.end());
  path.push_back('\0');
  if (!mkdtemp(path.data()))
    throw std::runtime_error("cannot create a directory like " + pattern);
  dirs.add(path.data());
  return path.data();
}

CommandResult run_command(const std::string &command_line) {
  char out_path[] = "/tmp/pciesim-test-out-XXXXXX";
  char err_path[] = "/tmp/pciesim-test-err-XXXXXX";
  int out_fd = mkstemp(out_path);
  int err_fd = mkstemp(err_path);
  close(out_fd);
  close(err_fd);
  std::string command = command_line + " >" + out_path + " 2>" + err_path;
  int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::remove(out_path);
  std::remove(err_path);
  return r;
}

CommandResult run_pciesim(const std::string &arguments) {
  return run_command(std::string(PCIESIM_BINARY) + " " + arguments);
}

nlohmann::json shared_switch_with_nics(int nics) {
  nlohmann::json t = nlohmann::json::parse(read_repo_file("topologies/gpu-nic-shared-switch.json"));
  auto component = [&t](const std::string &id) -> nlohmann::json & {
    for (nlohmann::json &c : t["components"])
      if (c["id"] == id)
        return c;
    throw std::runtime_error("gpu-nic-shared-switch.json has no " + id);
  };
  component("sw0")["params"]["downstream_ports"] = std::max(nics + 1, 4);
  const nlohmann::json nic0 = component("nic0");
  for (int k = 1; k < nics; ++k) {
    nlohmann::json nic = nic0;
    nic["id"] = "nic" + std::to_string(k);
    t["components"].push_back(nic);
    t["links"].push_back({{"between", {"sw0.dp" + std::to_string(k + 1), nic["id"]}},
                          {"params", {{"gen", 4}, {"width", 16}}}});
  }
  return t;
}

ScenarioRun run_scenario_file(const nlohmann::json &scenario, const std::string &prefix) {
  const std::string dir = make_temp_dir(prefix);
  std::ofstream(dir + "/s.json") << scenario.dump(2);
  ScenarioRun run{run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out"), {}};
  if (run.command.exit_code == 0)
    run.results = nlohmann::json::parse(read_file(dir + "/out/results.json"));
  return run;
}

const nlohmann::json &transfer(const nlohmann::json &result, const std::string &id) {
  for (const auto &t : result.at("transfers"))
    if (t.at("id") == id)
      return t;
  throw std::runtime_error("no transfer " + id);
}

std::uint64_t payload_from(const nlohmann::json &mechanism, const std::string &port) {
  std::uint64_t bytes = 0;
  for (const auto &link : mechanism.at("links"))
    if (link.at("from") == port)
      bytes += link.at("payload_bytes").get<std::uint64_t>();
  return bytes;
}

} // namespace pciesim::test
