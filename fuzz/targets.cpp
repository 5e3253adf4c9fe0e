// Fuzz targets: each writes its input where lrtune would read it, reads it
// the way a command does, and checks what came out. Typed lrtune errors are
// the expected answer to bad input; any other exception, or a broken
// property, aborts with a line saying what failed.
#include "targets.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/checksum.h"
#include "core/config.h"
#include "core/errors.h"
#include "data/cifar10.h"
#include "optim/schedule.h"
#include "report/escape.h"
#include "store/store.h"
#include "study/study_file.h"
#include "train/builtin_kinds.h"
#include "train/checkpoint.h"
#include "train/lr_range.h"

namespace lrtune::fuzz {
namespace fs = std::filesystem;
using nlohmann::json;


namespace {

std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A folder of this process for the files the targets read, removed at exit.
// The path is never freed: atexit handlers run after static objects die.
fs::path* scratch = nullptr;

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(*scratch, ec);
}

const fs::path& scratch_dir() {
  if (!scratch) {
    scratch = new fs::path(fs::temp_directory_path() / ("lrtune-fuzz-" + std::to_string(::getpid())));
    fs::create_directories(*scratch);
    std::atexit(remove_scratch);
  }
  return *scratch;
}

void register_kinds_once() {
  static const bool done = [] {
    register_builtin_kinds();
    return true;
  }();
  (void)done;
}

}  // namespace

std::string write_input(const std::string& name, const std::string& bytes) {
  const fs::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail("cannot write " + path.string(), __FILE__, __LINE__);
  return path.string();
}

// Runs `read`: a typed lrtune error is a fine answer to bad input, anything
// else escaping is a finding (the user would see no one-line message).
void expect_typed_errors(const char* target, const std::function<void()>& read) {
  try {
    read();
  } catch (const Error& e) {
    // LRTUNE_FUZZ_VERBOSE=1: say why an input was refused (is a seed getting through?).
    static const bool verbose = std::getenv("LRTUNE_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "%s: refused: %s\n", target, e.what());
  } catch (const std::exception& e) {
    fail(std::string(target) + ": " + typeid(e).name() + " escaped: " + e.what(), __FILE__,
         __LINE__);
  } catch (...) {
    fail(std::string(target) + ": a non-std exception escaped", __FILE__, __LINE__);
  }
}

int fuzz_cifar10(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = text_of(data, size);
  const std::string path = write_input("data_batch_1.bin", bytes);
  expect_typed_errors("cifar10", [&] {
    const LabelledImages read = read_cifar10_file(path);
    const std::int64_t n = read.size();
    FUZZ_CHECK(size > 0 && size % kRecordBytes == 0, "read a file that is not whole records");
    FUZZ_CHECK(n * kRecordBytes == static_cast<std::int64_t>(size), "wrong record count");
    FUZZ_CHECK(read.images.sizes() == torch::IntArrayRef({n, 3, 32, 32}), "images shape");
    FUZZ_CHECK(read.images.dtype() == torch::kUInt8, "images dtype");
    const auto* img = read.images.data_ptr<std::uint8_t>();
    const auto* lab = read.labels.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      const auto* rec = data + i * kRecordBytes;
      FUZZ_CHECK(lab[i] == rec[0] && lab[i] <= 9, "label of record " + std::to_string(i));
      FUZZ_CHECK(std::equal(rec + 1, rec + kRecordBytes, img + i * (kRecordBytes - 1)),
                 "pixels of record " + std::to_string(i));
    }
  });
  return 0;
}

namespace {

// The schedule a run of a valid configuration builds gives finite,
// non-negative rates (and momenta) at the run's edges and middle.
void check_schedule(const TrainConfig& cfg) {
  const std::int64_t images = cfg.train_subset > 0 ? cfg.train_subset : 50000 - cfg.val_size;
  const std::int64_t steps = std::max<std::int64_t>(
      1, images / cfg.batch_size + (images % cfg.batch_size != 0 ? 1 : 0));
  const auto schedule = make_schedule(cfg, ScheduleContext{cfg.epochs, steps});
  for (const std::int64_t epoch : {std::int64_t{0}, cfg.epochs / 2, cfg.epochs - 1})
    for (const std::int64_t step : {std::int64_t{0}, steps / 2, steps - 1}) {
      const double lr = schedule->lr(epoch, step);
      const std::string where = "epoch " + std::to_string(epoch) + " step " + std::to_string(step);
      FUZZ_CHECK(std::isfinite(lr) && lr >= 0, "lr " + std::to_string(lr) + " at " + where);
      if (const auto m = schedule->momentum(epoch, step))
        FUZZ_CHECK(std::isfinite(*m) && *m >= 0, "momentum at " + where);
    }
}

}  // namespace

int fuzz_config(const std::uint8_t* data, std::size_t size) {
  register_kinds_once();
  const std::string path = write_input("config.toml", text_of(data, size));
  expect_typed_errors("config", [&] {
    TrainConfig cfg;
    apply_toml_file(cfg, path);  // as `lrtune train --config FILE`
    cfg.validate(path);
    // A valid configuration survives its stored form (config.json on resume).
    TrainConfig again;
    apply_json(again, to_json(cfg), "config.json");
    again.validate("config.json");
    FUZZ_CHECK(to_json(again) == to_json(cfg), "config changed through JSON");
    FUZZ_CHECK(identity_json(again) == identity_json(cfg), "identity changed through JSON");
    check_schedule(cfg);
  });
  return 0;
}

int fuzz_study_file(const std::uint8_t* data, std::size_t size) {
  register_kinds_once();
  const std::string path = write_input("study.toml", text_of(data, size));
  expect_typed_errors("study_file", [&] {
    const Study s = read_study_file(path);
    FUZZ_CHECK(!s.name.empty(), "a study without a name");
    FUZZ_CHECK(s.repeats >= 1, "repeats " + std::to_string(s.repeats));
    FUZZ_CHECK(s.base.is_object(), "base is not an object");
    for (const Sweep& w : s.sweeps) {
      FUZZ_CHECK(w.set.is_object(), "sweep set is not an object");
      for (const auto& [key, values] : w.grid)
        FUZZ_CHECK(values.is_array() && !values.empty(), "grid." + key + " is empty");
      for (const auto& zip : w.zips) {
        FUZZ_CHECK(!zip.empty(), "an empty zip");
        for (const auto& [key, values] : zip)
          FUZZ_CHECK(values.is_array() && values.size() == zip.front().second.size() &&
                         !values.empty(),
                     "zip." + key + " has another length");
      }
    }
  });
  return 0;
}

namespace {

// A small network and optimizer to load checkpoints into (the loader is the
// same for every model: named parameters and optimizer state).
struct CheckpointHost {
  torch::nn::Linear model{torch::nn::LinearOptions(4, 3)};
  torch::optim::SGD optimizer{model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9)};
  TrainConfig cfg;
};

CheckpointHost& checkpoint_host() {
  static CheckpointHost host;
  return host;
}

// `archive` followed by the trailer save_checkpoint writes: magic, length, CRC-32C.
std::string with_trailer(std::string archive) {
  const std::uint32_t crc = crc32c(archive.data(), archive.size());
  const std::uint64_t length = archive.size();
  archive += "LRTCRC32";
  for (int i = 0; i < 8; ++i) archive.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i) archive.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return archive;
}

// The epoch entry from two input bytes: a scalar, or 0, 2 or 3 elements, of
// int64, float or bool.
torch::Tensor fuzzed_epoch(std::uint8_t shape, std::uint8_t value) {
  const auto dtype = shape & 4 ? torch::kFloat : shape & 8 ? torch::kBool : torch::kInt64;
  const std::int64_t elements[] = {1, 0, 2, 3};
  const auto epoch = torch::full({elements[shape & 3]}, static_cast<std::int8_t>(value),
                                 torch::TensorOptions().dtype(dtype));
  return (shape & 3) == 0 ? epoch.squeeze() : epoch;
}

// A checkpoint archive whose entries the input chooses: bytes 0-1 the epoch,
// byte 2 which entries exist; the rest "config\0schedule" (config: the host's
// identity when empty). It reaches what load_checkpoint does after LibTorch's
// loader, which mutated zip entries (each with its own CRC-32) seldom get past.
std::string built_archive(const std::uint8_t* data, std::size_t size) {
  CheckpointHost& host = checkpoint_host();
  const std::uint8_t b[3] = {size > 0 ? data[0] : std::uint8_t(0),
                             size > 1 ? data[1] : std::uint8_t(0),
                             size > 2 ? data[2] : std::uint8_t(0xFF)};
  const std::string rest = size > 3 ? text_of(data + 3, size - 3) : "";
  const std::size_t nul = rest.find('\0');
  std::string config = rest.substr(0, nul);
  if (config.empty()) config = identity_json(host.cfg).dump();
  torch::serialize::OutputArchive archive, model_archive, optim_archive;
  host.model->save(model_archive);
  host.optimizer.save(optim_archive);
  if (b[2] & 1) archive.write("model", model_archive);
  if (b[2] & 2) archive.write("optimizer", optim_archive);
  if (b[2] & 4) archive.write("epoch", fuzzed_epoch(b[0], b[1]));
  if (b[2] & 8) archive.write("config", c10::IValue(config));
  if ((b[2] & 16) && nul != std::string::npos)
    archive.write("schedule", c10::IValue(rest.substr(nul + 1)));
  std::string bytes;
  archive.save_to([&bytes](const void* p, std::size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return n;
  });
  return with_trailer(std::move(bytes));
}

// First byte: bit 1 set, an archive built from the rest (built_archive); else
// bit 0 set, the rest with a valid trailer; else the rest as it is.
std::string checkpoint_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return {};
  if (data[0] & 2) return built_archive(data + 1, size - 1);
  std::string rest = text_of(data + 1, size - 1);
  return (data[0] & 1) ? with_trailer(std::move(rest)) : rest;
}

}  // namespace

int fuzz_checkpoint(const std::uint8_t* data, std::size_t size) {
  register_kinds_once();
  CheckpointHost& host = checkpoint_host();
  const std::string path = write_input("checkpoint.pt", checkpoint_input(data, size));
  expect_typed_errors("checkpoint", [&] { checkpoint_epoch(path); });
  expect_typed_errors("checkpoint", [&] {
    const auto loaded = load_checkpoint(path, *host.model, host.optimizer, host.cfg, torch::kCPU);
    FUZZ_CHECK(loaded.has_value(), "an existing file loaded as no checkpoint");
  });
  return 0;
}

int fuzz_store(const std::uint8_t* data, std::size_t size) {
  register_kinds_once();
  const fs::path dir = scratch_dir() / "study";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const std::string path = write_input("study/results.sqlite", text_of(data, size));
  expect_typed_errors("store", [&] {
    // What `lrtune study status` and `lrtune report` read through the store.
    auto store = open_sqlite_store(path);
    const auto info = store->study();
    const auto trials = store->trials();
    std::set<std::string> ids;
    for (const auto& t : trials) {
      ids.insert(t.spec.id);
      const auto epochs = store->epochs(t.spec.id);
      FUZZ_CHECK(store->trial(t.spec.id).has_value(), "listed trial " + t.spec.id + " not found");
      for (std::size_t i = 1; i < epochs.size(); ++i)
        FUZZ_CHECK(epochs[i - 1].epoch <= epochs[i].epoch, "epochs out of order");
    }
    if (info)
      for (const auto& id : info->trial_ids) store->trial(id);
  });
  return 0;
}

namespace {

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : (c & 0xF0) == 0xE0 ? 3
                            : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    const std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// C0 controls, DEL, and C1 controls (U+0080..U+009F, encoded C2 80..C2 9F).
bool has_control(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

// Undoes html_escape; false on a '&' that starts none of its entities or a raw special.
bool html_unescape(const std::string& s, std::string& out) {
  static const std::pair<const char*, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == '\'') return false;
    if (s[i] != '&') {
      out += s[i++];
      continue;
    }
    bool known = false;
    for (const auto& [entity, c] : kEntities)
      if (s.compare(i, std::strlen(entity), entity) == 0) {
        out += c;
        i += std::strlen(entity);
        known = true;
        break;
      }
    if (!known) return false;
  }
  return true;
}

// Undoes markdown_cell; false on an unescaped special character.
bool markdown_unescape(const std::string& s, std::string& out) {
  std::string unbackslashed;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (std::strchr("|*_`[]<>", s[i])) return false;
    if (s[i] == '\\') {
      if (i + 1 == s.size() || !std::strchr("|*_`[]\\", s[i + 1])) return false;
      ++i;
    }
    unbackslashed += s[i];
  }
  // What is left is HTML text ('&' only in entities); quotes may stay raw in a cell.
  std::string html;
  for (char c : unbackslashed) html += c == '"' ? "&quot;" : c == '\'' ? "&#39;" : std::string(1, c);
  return html_unescape(html, out);
}

// One RFC 4180 field: quoted ("" for a quote) or bare (no comma, quote, CR or LF).
bool csv_parse_field(const std::string& s, std::string& out) {
  if (s.empty() || s.front() != '"') {
    out = s;
    return s.find_first_of(",\"\r\n") == std::string::npos;
  }
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] != '"') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '"') {
      out += '"';
      ++i;
    } else {
      return i + 1 == s.size();  // the closing quote ends the field
    }
  }
  return false;  // no closing quote
}

// A gnuplot single-quoted string: '' inside stands for one quote.
bool gnuplot_parse(const std::string& s, std::string& out) {
  if (s.size() < 2 || s.front() != '\'' || s.back() != '\'') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') return false;
    if (s[i] == '\'' && (i + 2 >= s.size() || s[++i] != '\'')) return false;
    out += s[i];
  }
  return true;
}

void check_json_for_script(const json& j) {
  const std::string embedded = report::json_for_script(j);
  FUZZ_CHECK(embedded.find_first_of("<>&") == std::string::npos, shown(embedded));
  const json plain = json::parse(j.dump(-1, ' ', false, json::error_handler_t::replace));
  const json back = json::parse(embedded, nullptr, false);
  FUZZ_CHECK(!back.is_discarded() && back == plain, shown(embedded));
}

}  // namespace

int fuzz_escape(const std::uint8_t* data, std::size_t size) {
  const std::string s = text_of(data, size);
  const std::string clean = report::clean_text(s);
  FUZZ_CHECK(valid_utf8(clean) && !has_control(clean), "clean_text: " + shown(clean));
  FUZZ_CHECK(report::clean_text(clean) == clean, "clean_text is not idempotent");
  if (valid_utf8(s) && !has_control(s)) FUZZ_CHECK(clean == s, "clean_text changed clean text");
  std::string html, md, csv, gp;
  FUZZ_CHECK(html_unescape(report::html_escape(s), html) && html == clean,
             "html_escape: " + shown(report::html_escape(s)));
  FUZZ_CHECK(markdown_unescape(report::markdown_cell(s), md) && md == clean,
             "markdown_cell: " + shown(report::markdown_cell(s)));
  FUZZ_CHECK(csv_parse_field(report::csv_field(s), csv) && csv == clean,
             "csv_field: " + shown(report::csv_field(s)));
  FUZZ_CHECK(gnuplot_parse(report::gnuplot_string(s), gp) && gp == clean,
             "gnuplot_string: " + shown(report::gnuplot_string(s)));
  const std::string folder = report::slug(s);
  FUZZ_CHECK(!folder.empty() && folder.front() != '-' &&
                 folder.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                     std::string::npos,
             "slug: " + shown(folder));
  check_json_for_script(s);
  check_json_for_script(json{{"label", s}, {"values", {1, 2.5, nullptr}}});
  const json parsed = json::parse(s, nullptr, false);
  if (!parsed.is_discarded()) check_json_for_script(parsed);
  return 0;
}

int fuzz_lr_find(const std::uint8_t* data, std::size_t size) {
  register_kinds_once();
  // The first 16 bytes: the two ends of the ramp; the rest: a --compare list.
  RangeTestOptions o;
  if (size >= 16) {
    std::memcpy(&o.start_lr, data, 8);
    std::memcpy(&o.end_lr, data + 8, 8);
  }
  bool accepted = true;
  try {
    check_range_options(o);
  } catch (const ConfigError&) {
    accepted = false;
  }
  if (accepted)
    FUZZ_CHECK(std::isfinite(o.start_lr) && std::isfinite(o.end_lr) && o.start_lr > 0 &&
                   o.start_lr < o.end_lr && o.end_lr <= 3.5e38,
               "accepted a ramp float32 cannot take");
  const std::string compare = text_of(data + std::min<std::size_t>(size, 16),
                                      size - std::min<std::size_t>(size, 16));
  expect_typed_errors("lr_find", [&] {
    const auto tests = compare_variants(TrainConfig{}, compare);
    FUZZ_CHECK(!tests.empty(), "no test for " + shown(compare));
    std::set<std::string> configs;
    for (const auto& t : tests) {
      FUZZ_CHECK(t.label.rfind(compare.substr(0, compare.find('=') + 1), 0) == 0, t.label);
      const std::string config = to_json(t.cfg).dump(-1, ' ', false, json::error_handler_t::replace);
      FUZZ_CHECK(configs.insert(config).second, "two tests alike: " + shown(compare));
    }
  });
  return 0;
}

const std::vector<NamedTarget>& fuzz_targets() {
  static const std::vector<NamedTarget> targets = {
      {"cifar10", fuzz_cifar10},       {"config", fuzz_config}, {"study_file", fuzz_study_file},
      {"checkpoint", fuzz_checkpoint}, {"store", fuzz_store},   {"escape", fuzz_escape},
      {"store_url", fuzz_store_url},   {"lr_find", fuzz_lr_find}, {"idx", fuzz_idx},
      {"image_folder", fuzz_image_folder}, {"tensors", fuzz_tensors}};
  return targets;
}

}  // namespace lrtune::fuzz
