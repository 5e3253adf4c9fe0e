// Small text helpers for progress lines and tables.
#pragma once
#include <string>

namespace lrtune {

std::string format_duration(double seconds);  // "42s", "3m05s", "2h07m"
std::string format_fixed(double v, int decimals);
std::string format_count(double v);            // 45000 -> "45,000"

}  // namespace lrtune
