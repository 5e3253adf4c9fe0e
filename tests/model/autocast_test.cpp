// bf16 support: what /proc/cpuinfo says, the one-line refusal where a CPU
// would emulate bf16 (the detection result simulated), and the autocast
// scope casting convolutions and matrix products only while it lasts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "model/autocast.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;

// Two cores of /proc/cpuinfo, cut to the lines that matter.
std::string cpuinfo(const std::string& flags) {
  std::string out;
  for (int core = 0; core < 2; ++core)
    out += "processor\t: " + std::to_string(core) + "\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 " +
           flags + " avx512f\nbugs\t\t: sysret_ss_attrs\n\n";
  return out;
}

TEST(CpuBf16, ReadsTheFlagsOfProcCpuinfo) {
  EXPECT_FALSE(cpu_bf16_support(cpuinfo("")).native());
  EXPECT_TRUE(cpu_bf16_support(cpuinfo("avx512_bf16")).avx512_bf16);
  EXPECT_FALSE(cpu_bf16_support(cpuinfo("avx512_bf16")).amx_bf16);
  EXPECT_TRUE(cpu_bf16_support(cpuinfo("amx_bf16 amx_tile")).amx_bf16);
  EXPECT_TRUE(cpu_bf16_support(cpuinfo("amx_bf16")).native());
  // A word that only contains the name is not the flag; nor is another line.
  EXPECT_FALSE(cpu_bf16_support(cpuinfo("avx512_bf16x")).native());
  EXPECT_FALSE(cpu_bf16_support("model name\t: avx512_bf16 inside\n").native());
  EXPECT_FALSE(cpu_bf16_support("").native());
}

TEST(CpuBf16, Bf16IsRefusedInOneLineWhereTheCpuWouldEmulateIt) {
  const CpuBf16Support none, avx512{true, false}, amx{false, true};
  try {
    check_precision("bf16", "cpu", none);
    FAIL() << "bf16 accepted on a CPU without AVX512-BF16 or AMX";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("precision bf16"));
    EXPECT_THAT(what, HasSubstr("AVX512-BF16"));
    EXPECT_THAT(what, HasSubstr("AMX"));
    EXPECT_THAT(what, HasSubstr("--precision fp32"));
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_NO_THROW(check_precision("bf16", "cpu", avx512));
  EXPECT_NO_THROW(check_precision("bf16", "cpu", amx));
  EXPECT_NO_THROW(check_precision("fp32", "cpu", none));
  EXPECT_NO_THROW(check_precision("bf16", "cuda", none));  // the GPU's own matter
}

TEST(Bf16Autocast, CastsMatrixProductsInsideTheScopeOnly) {
  const auto a = torch::randn({4, 8}), b = torch::randn({8, 3});
  {
    const Bf16Autocast scope(torch::Device(torch::kCPU), true);
    EXPECT_TRUE(cpu_autocast_enabled());
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    EXPECT_EQ((a + 1).scalar_type(), torch::kFloat32);  // not on the lists: as it was
    {
      const Bf16Autocast inner(torch::Device(torch::kCPU), false);  // off: changes nothing
      EXPECT_TRUE(cpu_autocast_enabled());
    }
  }
  EXPECT_FALSE(cpu_autocast_enabled());
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
}

}  // namespace
}  // namespace lrtune
