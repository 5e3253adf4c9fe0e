// Running an external program (curl, md5sum, tar) without a shell.
#pragma once
#include <string>
#include <vector>

namespace lrtune {

// Runs argv[0] found on PATH; returns its exit status (127 when not found).
// With capture set, its standard output is returned there.
int run_program(const std::vector<std::string>& argv, std::string* capture = nullptr);

bool program_exists(const std::string& name);

std::string host_name();

}  // namespace lrtune
