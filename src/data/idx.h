// Reader of the IDX format of MNIST and Fashion-MNIST: four files in a folder
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte), each gzipped (.gz) or not.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace lrtune {

struct DatasetKind;  // data/datasets.h

// The four files of `folder` as a data set of grey images [N, 1, rows, cols]
// with `class_names.size()` classes. Each file is read gzipped when NAME.gz
// is there, else as NAME. DataError naming the file for a missing file, a
// magic number that is not an IDX file of bytes (images of 3 dimensions,
// labels of 1), a file shorter or longer than its header says, image and
// label counts that differ, and a label at or above the class count. The
// fingerprint is of the files' names and uncompressed bytes.
ImageDataset load_idx_folder(const std::string& folder, const std::vector<std::string>& class_names);

// The `mnist` data set kind: its keys and how it reads its folder.
DatasetKind mnist_dataset();

// The `fashion_mnist` data set kind: its keys and how it reads its folder.
DatasetKind fashion_mnist_dataset();

}  // namespace lrtune
