// A program of one's own that registers a network under a name lrtune ships
// (reference_cnn): lrtune::main must refuse it in one line, exit status 2.
#include <lrtune/lrtune.h>

int main(int argc, char** argv) {
  lrtune::register_model({{"model", "reference_cnn", "a network of this program", {}, {}},
                          [](const lrtune::TrainConfig&, const lrtune::DataShape&)
                              -> std::shared_ptr<lrtune::Network> { return nullptr; }});
  return lrtune::main(argc, argv);
}
