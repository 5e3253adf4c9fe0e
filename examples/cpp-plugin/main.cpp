// mytool: lrtune with a network and a data set of its own. It registers them,
// then hands over to lrtune's command line, so `mytool study run`, `mytool
// study worker`, `mytool report` and the rest know both kinds.
#include <lrtune/lrtune.h>

#include <torch/torch.h>

namespace {

// "tiny_cnn": one convolution of `width` channels, max-pooling, one linear layer.
class TinyCnn : public lrtune::Network {
 public:
  TinyCnn(const lrtune::DataShape& shape, std::int64_t width)
      : conv_(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape.channels, width, 3).padding(1)))),
        fc_(register_module("fc", torch::nn::Linear(width * (shape.height / 2) * (shape.width / 2), shape.classes))) {}

  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(conv_->forward(x)), 2);
    return fc_->forward(x.flatten(1));
  }

 private:
  torch::nn::Conv2d conv_;
  torch::nn::Linear fc_;
};

lrtune::ModelKind tiny_cnn() {
  lrtune::KindDecl decl{"model", "tiny_cnn", "mytool: one convolution, max-pooling, one linear layer", {}, {}};
  decl.keys = {{"width", lrtune::KeyType::integer, 8, "channels", "tiny_cnn: channels of the convolution", true,
                lrtune::in_range(1, 256)}};
  return {decl, [](const lrtune::TrainConfig& cfg, const lrtune::DataShape& shape) {
            return std::make_shared<TinyCnn>(shape, cfg.integer("width"));
          }};
}

// "stripes": grey 16x16 images of horizontal, vertical or diagonal stripes
// over noise, made from the `stripes_seed` key (a kind may read its own files
// from `folder` instead, as lrtune's own kinds do).
lrtune::LabelledImages stripes(std::int64_t per_class, std::uint64_t seed) {
  torch::manual_seed(seed);
  const std::int64_t n = 3 * per_class;
  auto images = torch::randint(0, 96, {n, 1, 16, 16}, torch::kInt64);
  auto labels = torch::arange(n, torch::kInt64).remainder(3);
  const auto y = torch::arange(16).view({16, 1}).expand({16, 16});
  const auto x = torch::arange(16).view({1, 16}).expand({16, 16});
  const torch::Tensor pattern[] = {y.remainder(4) < 2, x.remainder(4) < 2, (x + y).remainder(4) < 2};
  for (std::int64_t i = 0; i < n; ++i) images[i][0].masked_fill_(pattern[i % 3], 255);
  return {images.to(torch::kUInt8), labels};
}

lrtune::DatasetKind stripes_dataset() {
  lrtune::KindDecl decl{"dataset", "stripes", "mytool: 1x16x16 stripes, 3 classes, made in memory", {}, {}};
  decl.keys = {{"stripes_seed", lrtune::KeyType::integer, 1, "", "stripes: seed of the noise", true,
                lrtune::at_least(0)}};
  decl.defaults = {{"augment", "none"}};  // a shifted stripe is another phase of the same class
  return {decl, "", [](const lrtune::TrainConfig& cfg, const std::string&) {
            lrtune::ImageDataset data;
            const auto seed = static_cast<std::uint64_t>(cfg.integer("stripes_seed"));
            data.train = stripes(300, seed);
            data.test = stripes(100, seed + 1000);
            data.class_names = {"horizontal", "vertical", "diagonal"};
            data.fingerprint = "stripes-" + std::to_string(seed);
            return data;
          }};
}

}  // namespace

int main(int argc, char** argv) {
  lrtune::register_model(tiny_cnn());
  lrtune::register_dataset(stripes_dataset());
  return lrtune::main(argc, argv);
}
