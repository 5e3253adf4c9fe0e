// Fetching a data set's official files (for users with internet): curl, an
// MD5 check of every file, and for archives tar.
#pragma once
#include <string>
#include <vector>

namespace lrtune {

struct DownloadFile {
  std::string url;  // its last path element is the file's name
  std::string md5;
};

struct DatasetDownload {
  std::string dataset;  // the kind: cifar10, cifar100, mnist, fashion_mnist
  std::vector<DownloadFile> files;
  // For an archive: the folder it unpacks into (the data folder must be
  // named so; the archive is kept beside it). Empty: the files are the data
  // and are saved in the data folder as they are (IDX .gz files).
  std::string unpacks_to;
};

// The official sources and checksums of `dataset`, or nullptr for kinds
// that have nothing to download (image_folder, tensors).
const DatasetDownload* official_download(const std::string& dataset);
// "cifar10, cifar100, ..." for messages.
std::string downloadable_datasets();

// Makes `folder` hold the data set: downloads what is missing, checks each
// MD5, unpacks an archive. A file already there with the right sum is kept.
// DataError saying what to do by hand when a step fails; a file with a wrong
// sum is removed, and a folder this call created is removed when nothing
// usable came, so that a failure leaves nothing behind.
void download_dataset(const DatasetDownload& d, const std::string& folder, bool quiet);

}  // namespace lrtune
