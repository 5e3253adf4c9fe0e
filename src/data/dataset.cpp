// ImageDataset's shape.
#include "data/dataset.h"

namespace lrtune {

std::string DataShape::text() const {
  return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width) +
         ", " + std::to_string(classes) + " classes";
}

DataShape ImageDataset::shape() const {
  DataShape s;
  if (train.images.defined() && train.images.dim() == 4) {
    s.channels = train.images.size(1);
    s.height = train.images.size(2);
    s.width = train.images.size(3);
  }
  s.classes = static_cast<std::int64_t>(class_names.size());
  return s;
}

}  // namespace lrtune
