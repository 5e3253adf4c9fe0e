// What one benchmark row does and how long it took: plain numbers, no LibTorch,
// so the table and the Python client compile quickly.
#pragma once
#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace lrtune::bench {

// Work of the reference network per image, counted from its layer shapes.
struct Flops {
  double forward = 0;  // 2 x multiply-adds of every conv and linear layer
  double train = 0;    // forward + backward, counted as 3 x forward
};
Flops reference_flops(const DataShape& shape = {});

// One timed repeat: training and evaluation images and their seconds.
struct Timing {
  double train_images = 0, train_s = 0;
  double eval_images = 0, eval_s = 0;
  double other_s = 0;  // outside the epoch (set-up, checkpoint); epoch mode only
  double faults = 0;   // minor page faults during training and evaluation
  double train_ips() const { return train_s > 0 ? train_images / train_s : 0; }
  double eval_ips() const { return eval_s > 0 ? eval_images / eval_s : 0; }
  // A full epoch (45,000 + 15,000 images) at these rates.
  double epoch_s() const;
};

// What one row of the benchmark does.
struct Work {
  std::string device = "cpu";
  std::int64_t batch = 128;
  std::int64_t eval_batch = 250;
  std::int64_t train_steps = 0;   // per repeat; 0 = a full epoch (45,000 images)
  std::int64_t eval_batches = 0;  // per repeat; 0 = a full evaluation (15,000 images)
  // "wall", or "cpu": the process's CPU time, which a busy shared machine does
  // not inflate, but which only means elapsed time with one thread (more
  // threads add up, spin-waiting included).
  std::string clock = "wall";
  // fp32, or bf16: forward passes under bf16 autocast (lrtune's `precision`,
  // PyTorch's torch.autocast), weights, optimizer and loss in fp32.
  std::string precision = "fp32";
  DataShape shape;  // of the data (--dataset): the network's input and classes
  // The network: "native" (lrtune's reference CNN), "torchscript" (the same
  // network saved by Python as TorchScript, trained by lrtune's model
  // "torchscript") or "resnet18" (torchvision's ResNet-18, scripted). The
  // Python side always trains the same network eagerly.
  std::string model = "native";
  std::string model_file;  // the TorchScript file of a non-native model
  std::int64_t train_images() const;
  std::int64_t eval_images() const;
};

}  // namespace lrtune::bench
