// Registers every shipped model, optimizer and schedule. Programs call it once
// at start-up, before reading any configuration (`lrtune`'s main, the test
// and benchmark programs); later calls do nothing.
#pragma once

namespace lrtune {

void register_builtin_kinds();

}  // namespace lrtune
