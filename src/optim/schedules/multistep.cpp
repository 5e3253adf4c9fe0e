// multistep: lr times gamma after each milestone epoch (PyTorch's MultiStepLR
// stepped once per epoch: milestone 50 decays the 51st epoch onward).
#include "optim/builtin_kinds.h"

#include <algorithm>

namespace lrtune {

ScheduleKind multistep_schedule() {
  KindDecl decl{"schedule", "multistep", "lr times gamma from each milestone epoch on", {}, {}};
  decl.keys = {
      {"milestones", KeyType::int_list, nlohmann::json::array({50, 100, 150}), "epochs",
       "multistep: epochs after which lr is multiplied by gamma", true,
       [](const nlohmann::json& v) -> std::optional<std::string> {
         const auto m = v.get<std::vector<std::int64_t>>();
         if (std::is_sorted(m.begin(), m.end()) &&
             std::all_of(m.begin(), m.end(), [](auto x) { return x > 0; }))
           return std::nullopt;
         return "must be positive epochs in increasing order, got " + v.dump();
       }},
      decay_gamma_key()};
  return {decl, [](const TrainConfig& cfg, const ScheduleContext&) {
            return rate_function([lr = cfg.lr, milestones = cfg.int_list("milestones"),
                                  gamma = cfg.real("gamma")](std::int64_t epoch, std::int64_t) {
              double rate = lr;
              for (auto m : milestones)
                if (epoch >= m) rate *= gamma;
              return rate;
            });
          }};
}

}  // namespace lrtune
