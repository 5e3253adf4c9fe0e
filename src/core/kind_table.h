// The builders of one family of kinds (optimizers, schedules, models), each
// entry a struct with a `decl` (core/keys.h) plus what builds it. Adding one
// declares its keys; looking up an unknown name is a ConfigError.
#pragma once
#include <deque>
#include <string>

#include "core/errors.h"
#include "core/keys.h"

namespace lrtune {

template <typename Kind>
class KindTable {
 public:
  explicit KindTable(std::string family) : family_(std::move(family)) {}

  // Declares the kind's keys (std::logic_error when the name is taken) and keeps it.
  void add(Kind kind) {
    kind.decl.family = family_;
    declare_kind(kind.decl);
    kinds_.push_back(std::move(kind));
  }

  const Kind* find(const std::string& name) const {
    for (const auto& k : kinds_)
      if (k.decl.name == name) return &k;
    return nullptr;
  }

  // Throws ConfigError "<family>: unknown ... (known: ...)" for an unknown name.
  const Kind& get(const std::string& name) const {
    if (const Kind* k = find(name)) return *k;
    throw ConfigError(family_ + ": " + unknown_kind_message(family_, name));
  }

  // In registration order; references stay valid as kinds are added.
  const std::deque<Kind>& all() const { return kinds_; }

 private:
  std::string family_;
  std::deque<Kind> kinds_;
};

}  // namespace lrtune
