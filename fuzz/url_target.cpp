// The torch-free part of the fuzz targets: the finding report every target
// uses, and the store-URL target (core/url.h), which needs no LibTorch and
// so also builds on its own (docs/fuzzing.md).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/url.h"
#include "targets.h"

namespace lrtune::fuzz {

[[noreturn]] void fail(const std::string& what, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed at %s:%d: %s\n", file, line, what.c_str());
  std::abort();
}

std::string shown(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02X", c);
    out += c >= 0x20 && c < 0x7F ? std::string(1, static_cast<char>(c)) : std::string(hex);
  }
  return out;
}

namespace {
std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}
}  // namespace

int fuzz_store_url(const std::uint8_t* data, std::size_t size) {
  const std::string s = text_of(data, size);
  const std::string once = redact_passwords(s);
  FUZZ_CHECK(once.size() <= s.size(), "redaction grew the text: " + shown(once));
  // A password in each form libpq reads, after or before any text: never shown.
  static const std::string kMarker = "Zq7SECRETpw";
  if (s.find(kMarker) == std::string::npos) {
    std::vector<std::string> forms = {"postgresql://u:" + kMarker + "@" + s,
                                      s + "?password=" + kMarker, s + "&password=" + kMarker,
                                      "host=h password=" + kMarker + " " + s};
    // After `s`, a key=value setting of ours is one only when `s` ends
    // closed: no quote left open, no "key =" waiting for its value (libpq
    // too would read our text as that value then, not as our password).
    const std::string probe = " probe=1";
    const std::string closed = redact_passwords(s + probe);
    if (closed.size() >= probe.size() &&
        closed.compare(closed.size() - probe.size(), probe.size(), probe) == 0) {
      forms.push_back(s + " password=" + kMarker);
      forms.push_back(s + " password='a " + kMarker + "'");
    }
    for (const std::string& with : forms)
      FUZZ_CHECK(redact_passwords(with).find(kMarker) == std::string::npos,
                 "password shown: " + shown(redact_passwords(with)));
  }
  FUZZ_CHECK(!is_postgres_url(s) || looks_like_url(s), shown(s));
  FUZZ_CHECK(libpq_url(s).size() == s.size(), shown(s));
  try {
    refuse_foreign_url(s, "--store");
  } catch (const StoreError&) {
    FUZZ_CHECK(looks_like_url(s) && !is_postgres_url(s), "refused " + shown(s));
  }
  return 0;
}

}  // namespace lrtune::fuzz
