// The `tensors` data set kind: one file written in Python by
//   torch.save({"train_images": ..., "train_labels": ..., "test_images": ...,
//               "test_labels": ..., "classes": [...]}, path)
// read with LibTorch's own loader (torch::pickle_load).
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace lrtune {

struct DatasetKind;  // data/datasets.h

// Images: uint8 [N, C, H, W], [N, H, W, C] (C = 1 or 3 in the last place and
// not in the second) or [N, H, W] (grey). Labels: integers [N], each below
// the number of classes. Train and test images of the same C, H, W.
// DataError naming the file and the entry for a file torch.save did not
// write, a missing key, a wrong dtype, rank or shape, counts that differ, or
// a label out of range. The fingerprint is of the file's bytes.
ImageDataset load_tensors_file(const std::string& path);
// The same, from the bytes of such a file (`path` names it in errors).
ImageDataset load_tensors_bytes(const std::vector<char>& bytes, const std::string& path);

// The `tensors` data set kind: its keys and how it reads its folder.
DatasetKind tensors_dataset();

}  // namespace lrtune
