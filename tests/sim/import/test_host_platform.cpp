// The CPU a dump names picks the platform file: by family and model number where the dump
// gives them, by the model's name otherwise.
#include <gtest/gtest.h>

#include "sim/import/host_platform.h"
#include "sim/import/pci_inventory.h"

namespace pciesim {
namespace {

TEST(HostPlatform, ACoreUltra200DesktopIsArrowLakeByModelNumberOrByName) {
  PciInventory by_number;
  by_number.cpu_vendor = "GenuineIntel";
  by_number.cpu_family = 6;
  by_number.cpu_model_number = 0xc6;
  EXPECT_EQ(choose_host_platform(by_number).platform, "intel-arrow-lake-s");
  PciInventory by_name;
  by_name.cpu_vendor = "GenuineIntel";
  by_name.cpu_model = "Intel(R) Core(TM) Ultra 9 285K";
  EXPECT_EQ(choose_host_platform(by_name).platform, "intel-arrow-lake-s");
  // Laptop parts (Meteor Lake, Lunar Lake's memory on the package) are not that desktop.
  for (const char *laptop_model :
       {"Intel(R) Core(TM) Ultra 7 155H", "Intel(R) Core(TM) Ultra 7 258V"}) {
    PciInventory laptop;
    laptop.cpu_vendor = "GenuineIntel";
    laptop.cpu_model = laptop_model;
    EXPECT_NE(choose_host_platform(laptop).platform, "intel-arrow-lake-s") << laptop_model;
  }
  PciInventory desktop_65w;
  desktop_65w.cpu_vendor = "GenuineIntel";
  desktop_65w.cpu_model = "Intel(R) Core(TM) Ultra 5 245";
  EXPECT_EQ(choose_host_platform(desktop_65w).platform, "intel-arrow-lake-s");
}

} // namespace
} // namespace pciesim
