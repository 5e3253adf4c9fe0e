// Chooses the CPU thread count while training, from measured speed. On a busy
// machine more threads than free cores collapse (an OpenMP barrier waits for a
// thread the kernel has descheduled): the count that trains fastest now wins.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lrtune {

struct GovernorOptions {
  double window_s = 0.5;     // seconds of training per measurement
  double first_window_s = 0.1;  // the first one: a busy machine shows at once
  int first_settle = 1;      // windows at the start before the first try of a neighbour
  int settle_windows = 4;    // windows at a count before its neighbour is tried
  int max_backoff = 32;      // a losing neighbour is retried at most this much later (x settle)
  double margin = 0.05;      // a neighbour must train this much faster to be adopted
  double drop = 0.75;        // training below this share of the count's best: try fewer now
  double abort_below = 1.0;  // a neighbour slower than this x home's speed is left at once
  double first_step_below = 0.4;  // the same for a try's first step, which pays for the switch
};

// Pure logic, fed with step times (tests pass made-up ones). The candidates
// are max, max/2, ..., 1. It starts at max (an idle machine's best) and tries
// a neighbour after the first window, then every settle_windows windows: it
// keeps the neighbour when it trained `margin` faster than the window before,
// and otherwise goes back and waits twice as long before the next try (four
// times after a plain loss, below), up to max_backoff times: on a steady
// machine the tries cost little.
// The first step after a change is never measured (threads wake, and oneDNN
// builds its kernels for the new count again). Two guards keep the tries
// cheap on a busy machine:
// - a try that trains slower than home (abort_below) ends after the first
//   measured step that shows it, or after its first step when that one ran at
//   under first_step_below x home's speed (a switch alone costs less): a
//   collapsed count costs one or two steps, not a window;
// - when the machine gets busy (two steps in a row below drop x the best
//   window at this count) fewer threads are tried at once.
class ThreadGovernor {
 public:
  explicit ThreadGovernor(int max_threads, GovernorOptions options = {});

  int threads() const { return ladder_[current_]; }

  // One training step of `images` took `seconds` at threads(). Returns true
  // when threads() changed (the caller applies the new count).
  bool record(double seconds, std::int64_t images);

  // How many times a neighbour was adopted, and the last adoption as a log
  // line ("threads 2 -> 1: 5,936 img/s against 2,708"); "" before the first.
  int adoptions() const { return adoptions_; }
  const std::string& last_change() const { return last_change_; }

 private:
  bool end_window(double rate);
  bool start_probe(std::size_t to);
  bool lose_probe(bool plainly);  // plainly: left early, for abort_below
  std::size_t neighbour() const;

  GovernorOptions o_;
  std::vector<int> ladder_;  // descending, distinct
  std::size_t current_ = 0;  // index into ladder_ in use now
  std::size_t home_ = 0;     // the settled count's index
  bool probing_ = false, skip_next_ = false, last_probe_down_ = false, drop_probe_ = false;
  int windows_left_;         // settled windows before the next probe
  int backoff_ = 1;
  double settled_rate_ = 0;  // the settled count's last window, img/s
  double home_best_ = 0;     // the settled count's best window since it became home
  double window_len_;        // first_window_s, then window_s
  // Training time and images over some steps.
  struct Tally {
    double seconds = 0;
    std::int64_t images = 0;
    void add(double s, std::int64_t n) { seconds += s, images += n; }
    double rate() const { return static_cast<double>(images) / seconds; }
  };
  Tally window_;  // the current window
  Tally slow_;    // the latest steps at home below drop x home_best_, in a row
  int adoptions_ = 0;
  std::string last_change_;
};

}  // namespace lrtune
