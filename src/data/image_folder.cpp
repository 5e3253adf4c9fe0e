// Listing, parallel decoding and the cache of decoded images.
#include "data/image_folder.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/errors.h"
#include "data/datasets.h"
#include "data/cifar10.h"  // fnv1a_words, hex16
#include "data/image_decode.h"

namespace lrtune {
namespace {
namespace fs = std::filesystem;

constexpr const char* kCacheMagic = "lrtune image_folder cache 1\n";

struct Entry {
  fs::path path;
  std::string name;  // path under ROOT ("train/cat/0001.png"): cache key and fingerprint
  std::int64_t label = 0;
  bool test = false;
};

struct Listing {
  std::vector<std::string> classes;
  std::vector<Entry> entries;  // train then test, each in class and name order
  bool split_off = false;      // no ROOT/test: the test part is every fifth image
};

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<fs::path> sorted(const fs::path& dir, bool folders) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (folders ? e.is_directory() : (e.is_regular_file() && is_image(e.path()))) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

Listing list_folder(const fs::path& root) {
  std::error_code ec;
  const fs::path train = root / "train", test = root / "test";
  if (!fs::is_directory(root, ec))
    throw DataError(root.string() + ": no such folder (an image folder holds train/CLASS/*.png|jpg)");
  if (!fs::is_directory(train, ec))
    throw DataError(root.string() + ": has no train folder; an image folder holds train/CLASS/*.png|jpg "
                    "(and test/CLASS/... if it has a test part)");
  Listing l;
  for (const auto& dir : sorted(train, true)) l.classes.push_back(dir.filename().string());
  if (l.classes.empty())
    throw DataError(train.string() + ": no class folders (one folder per class, holding its images)");
  l.split_off = !fs::is_directory(test, ec);
  for (std::size_t c = 0; c < l.classes.size(); ++c) {
    const auto files = sorted(train / l.classes[c], false);
    if (files.empty())
      throw DataError((train / l.classes[c]).string() + ": no .png, .jpg or .jpeg images in this class");
    for (std::size_t i = 0; i < files.size(); ++i)
      l.entries.push_back({files[i], files[i].lexically_relative(root).string(),
                           static_cast<std::int64_t>(c), l.split_off && i % 5 == 4});
  }
  if (l.split_off) return l;
  for (const auto& dir : sorted(test, true)) {
    const auto it = std::find(l.classes.begin(), l.classes.end(), dir.filename().string());
    if (it == l.classes.end())
      throw DataError(dir.string() + ": a test class that " + train.string() + " does not have");
    for (const auto& f : sorted(dir, false))
      l.entries.push_back(
          {f, f.lexically_relative(root).string(), static_cast<std::int64_t>(it - l.classes.begin()), true});
  }
  if (!l.entries.back().test)
    throw DataError(test.string() + ": no images (test/CLASS/*.png|jpg); remove the folder to split a "
                    "test part off the train images");
  return l;
}

// The files' names, sizes and modification times, with the options: a
// changed, added or removed file is a new key.
std::string listing_key(const Listing& l, const ImageFolderOptions& o) {
  std::string text = std::to_string(o.image_size) + "|" + std::to_string(o.channels) + "|";
  for (const auto& e : l.entries) {
    std::error_code ec;
    const auto size = fs::file_size(e.path, ec);
    const auto mtime = fs::last_write_time(e.path, ec).time_since_epoch().count();
    text += e.name + "|" + std::to_string(size) + "|" +
            std::to_string(mtime) + "|" + std::to_string(e.test) + ";";
  }
  return hex16(fnv1a_words(kFingerprintBasis, reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

fs::path user_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "lrtune";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "lrtune";
  return fs::temp_directory_path() / "lrtune-cache";
}

bool writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  return fs::is_directory(dir, ec) && ::access(dir.c_str(), W_OK) == 0;
}

fs::path cache_file(const fs::path& root, const Listing& l, const ImageFolderOptions& o) {
  fs::path dir = o.cache_dir.empty() ? root / ".lrtune-cache" : fs::path(o.cache_dir);
  if (o.cache_dir.empty() && !writable_dir(dir)) dir = user_cache_dir();
  const std::string name = root.filename().empty() ? root.parent_path().filename().string()
                                                   : root.filename().string();
  return dir / (name + "-" + std::to_string(o.image_size) + "px-c" + std::to_string(o.channels) + "-" +
                listing_key(l, o) + ".bin");
}

// --- the cache file: magic, one JSON line, then the four tensors' bytes.

void write_bytes(std::ofstream& out, const torch::Tensor& t) {
  out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
}

void write_cache(const fs::path& file, const ImageDataset& d) {
  if (!writable_dir(file.parent_path())) return;  // not cached: the next load decodes again
  const nlohmann::json head = {{"classes", d.class_names},   {"fingerprint", d.fingerprint},
                               {"train", d.train.size()},    {"test", d.test.size()},
                               {"shape", d.train.images.sizes().slice(1).vec()}, {"warnings", d.warnings}};
  const fs::path part = file.string() + ".part" + std::to_string(::getpid());
  {
    std::ofstream out(part, std::ios::binary);
    out << kCacheMagic << head.dump() << "\n";
    for (const auto* t : {&d.train.images, &d.train.labels, &d.test.images, &d.test.labels}) write_bytes(out, *t);
    if (!out) {
      std::error_code ec;
      fs::remove(part, ec);
      return;
    }
  }
  std::error_code ec;
  fs::rename(part, file, ec);  // whole or not at all: a reader never sees half a cache
}

bool read_into(std::ifstream& in, torch::Tensor& t) {
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  return static_cast<bool>(in);
}

// The cached data set, or nothing when there is none or it is damaged.
std::optional<ImageDataset> read_cache(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string magic(std::string(kCacheMagic).size(), '\0'), line;
  if (!in.read(magic.data(), static_cast<std::streamsize>(magic.size())) || magic != kCacheMagic ||
      !std::getline(in, line))
    return std::nullopt;
  try {
    const auto head = nlohmann::json::parse(line);
    ImageDataset d;
    d.class_names = head.at("classes").get<std::vector<std::string>>();
    d.fingerprint = head.at("fingerprint").get<std::string>();
    d.warnings = head.at("warnings").get<std::vector<std::string>>();
    auto shape = head.at("shape").get<std::vector<std::int64_t>>();
    for (auto [part, n] : {std::pair{&d.train, head.at("train").get<std::int64_t>()},
                           std::pair{&d.test, head.at("test").get<std::int64_t>()}}) {
      std::vector<std::int64_t> dims = {n};
      dims.insert(dims.end(), shape.begin(), shape.end());
      part->images = torch::empty(dims, torch::kUInt8);
      part->labels = torch::empty({n}, torch::kInt64);
    }
    if (!read_into(in, d.train.images) || !read_into(in, d.train.labels) || !read_into(in, d.test.images) ||
        !read_into(in, d.test.labels) || in.peek() != std::char_traits<char>::eof())
      return std::nullopt;
    return d;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// --- decoding on all cores.

struct Decoded {
  torch::Tensor image;  // [C, S, S]
  std::uint64_t hash = 0;  // of the file's bytes
};

Decoded decode_one(const Entry& e, const ImageFolderOptions& o) {
  std::ifstream in(e.path, std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && !in) throw DataError(e.path.string() + ": cannot read");
  const std::string name = e.path.string();
  c10::InferenceMode guard;
  return {resize_image(decode_image(bytes, o.channels, name), o.image_size),
          fnv1a_words(kFingerprintBasis, bytes.data(), bytes.size())};
}

std::vector<Decoded> decode_all(const Listing& l, const ImageFolderOptions& o) {
  std::vector<Decoded> out(l.entries.size());
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::size_t failed_at = l.entries.size();
  std::exception_ptr error;
  const auto work = [&] {
    for (std::size_t i; (i = next++) < l.entries.size();) {
      try {
        out[i] = decode_one(l.entries[i], o);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (i < failed_at) failed_at = i, error = std::current_exception();  // the first file's, always
        next = l.entries.size();
      }
    }
  };
  const int n = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

void check_channels(const Listing& l, const std::vector<Decoded>& d) {
  for (std::size_t i = 1; i < d.size(); ++i)
    if (d[i].image.size(0) != d[0].image.size(0))
      throw DataError("images of mixed channel counts: " + l.entries[0].path.string() + " has " +
                      std::to_string(d[0].image.size(0)) + ", " + l.entries[i].path.string() + " " +
                      std::to_string(d[i].image.size(0)) +
                      "; set channels = 1 or 3 to convert every image to that count");
}

ImageDataset assemble(const fs::path& root, const Listing& l, const std::vector<Decoded>& d) {
  ImageDataset data;
  data.class_names = l.classes;
  std::uint64_t hash = kFingerprintBasis;
  std::vector<torch::Tensor> images[2];
  std::vector<std::int64_t> labels[2];
  for (std::size_t i = 0; i < d.size(); ++i) {
    const Entry& e = l.entries[i];
    const std::string head = e.name + ":" + std::to_string(d[i].hash) + ";";
    hash = fnv1a_words(hash, reinterpret_cast<const unsigned char*>(head.data()), head.size());
    images[e.test].push_back(d[i].image);
    labels[e.test].push_back(e.label);
  }
  const auto shape = d.front().image.sizes();
  for (int t = 0; t < 2; ++t) {
    LabelledImages& part = t ? data.test : data.train;
    part.images = images[t].empty() ? torch::empty({0, shape[0], shape[1], shape[2]}, torch::kUInt8)
                                    : torch::stack(images[t]);
    part.labels = torch::tensor(labels[t], torch::kInt64);
  }
  if (l.split_off)
    data.warnings.push_back(root.string() + ": no test folder; every fifth image of each class (" +
                            std::to_string(data.test.size()) + " in all) is the test part");
  data.fingerprint = hex16(hash);
  return data;
}

}  // namespace

std::string image_folder_cache_path(const std::string& root, const ImageFolderOptions& opts) {
  return cache_file(root, list_folder(root), opts).string();
}

ImageDataset load_image_folder(const std::string& root_text, const ImageFolderOptions& opts) {
  const fs::path root = fs::path(root_text);
  const Listing listing = list_folder(root);
  const fs::path cache = cache_file(root, listing, opts);
  if (auto cached = read_cache(cache)) {
    cached->kind = "image_folder";
    return *cached;
  }
  std::cerr << "image_folder: decoding " << listing.entries.size() << " images of " << root.string()
            << " (once: later loads read " << cache.string() << ")\n";
  const std::vector<Decoded> decoded = decode_all(listing, opts);
  check_channels(listing, decoded);
  ImageDataset data = assemble(root, listing, decoded);
  data.kind = "image_folder";
  write_cache(cache, data);
  return data;
}

DatasetKind image_folder_dataset() {
  return {{"dataset", "image_folder",
           "your images: ROOT/train/CLASS/*.png|jpg (and ROOT/test/CLASS/...), resized to "
           "image_size, decoded once into a cache",
           {{"image_size", KeyType::integer, 32, "pixels",
             "image_folder: images are resized to image_size x image_size", true, in_range(4, 1024)},
            {"channels", KeyType::integer, 0, "",
             "image_folder: 1 (grey) or 3 (colour) converts every image; 0 takes them as they are",
             true,
             [](const nlohmann::json& v) -> std::optional<std::string> {
               if (v == 0 || v == 1 || v == 3) return std::nullopt;
               return std::string("must be 0 (as the images are), 1 or 3");
             }}},
           {},
           {{"augment", "flipcrop"}}},
          "data/images",
          [](const TrainConfig& cfg, const std::string& folder) {
            ImageFolderOptions o;
            o.image_size = cfg.integer("image_size");
            o.channels = static_cast<int>(cfg.integer("channels"));
            return load_image_folder(folder, o);
          }};
}

}  // namespace lrtune
