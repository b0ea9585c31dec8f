// Generated sections of the docs: a test computes a table from fresh simulations and compares
// it with the text between `<!-- marker:begin -->` and `<!-- marker:end -->` of a document;
// PCIESIM_UPDATE_DOCS=1 rewrites the section in place instead.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {

inline void expect_doc_section(const std::string &document, const std::string &marker,
                               const std::string &generated) {
  const std::string begin = "<!-- " + marker + ":begin -->\n", end = "<!-- " + marker + ":end -->";
  std::string doc = read_repo_file(document);
  auto b = doc.find(begin), e = doc.find(end);
  ASSERT_NE(b, std::string::npos) << document << " has no " << begin;
  ASSERT_NE(e, std::string::npos) << document << " has no " << end;
  std::string current = doc.substr(b + begin.size(), e - b - begin.size());
  if (std::getenv("PCIESIM_UPDATE_DOCS")) {
    doc.replace(b + begin.size(), e - b - begin.size(), generated);
    std::ofstream(std::string(PCIESIM_SOURCE_DIR) + "/" + document, std::ios::binary) << doc;
    return;
  }
  EXPECT_EQ(current, generated) << document << " is stale: rerun with PCIESIM_UPDATE_DOCS=1";
}

} // namespace pciesim::test
