// The thread governor's measurements and decisions (see thread_governor.h).
#include "train/thread_governor.h"

#include <algorithm>

#include "core/format.h"

namespace lrtune {

ThreadGovernor::ThreadGovernor(int max_threads, GovernorOptions options)
    : o_(options), windows_left_(options.first_settle), window_len_(options.first_window_s) {
  for (int n = std::max(1, max_threads);; n /= 2) {
    ladder_.push_back(n);
    if (n == 1) break;
  }
  skip_next_ = true;  // the first step allocates: not a measure of speed
}

bool ThreadGovernor::record(double seconds, std::int64_t images) {
  if (ladder_.size() == 1) return false;
  if (skip_next_) {  // the first step at a new count wakes or parks threads, and
    skip_next_ = false;  // oneDNN builds its kernels for the count again
    // ... which costs less than this: a try that collapsed shows it already.
    if (probing_ && static_cast<double>(images) < o_.first_step_below * settled_rate_ * seconds)
      return lose_probe(true);
    return false;
  }
  window_.add(seconds, images);
  const double rate = window_.rate();
  if (probing_) {  // a try no faster than home from its first measured step ends now
    if (rate < o_.abort_below * settled_rate_) return lose_probe(true);
    if (window_.seconds < window_len_) return false;
    window_ = {};
    return end_window(rate);
  }
  // Slow steps in a row at home: one alone is common (the first after an
  // evaluation), two mean the machine got busy.
  if (static_cast<double>(images) < o_.drop * home_best_ * seconds) slow_.add(seconds, images);
  else slow_ = {};
  const bool dropped = slow_.images > images;
  if (window_.seconds < window_len_ && !dropped) return false;
  window_ = {};
  window_len_ = o_.window_s;
  if (!dropped) return end_window(rate);
  const double slow_rate = slow_.rate();
  slow_ = {};
  return end_window(slow_rate);  // once busy, the steps before tell nothing
}

bool ThreadGovernor::end_window(double rate) {
  if (probing_) {
    if (rate <= settled_rate_ * (1 + o_.margin)) return lose_probe(false);
    probing_ = false;  // the neighbour wins: it becomes home
    last_change_ = "threads " + std::to_string(ladder_[home_]) + " -> " +
                   std::to_string(ladder_[current_]) + ": " + format_count(rate) +
                   " img/s against " + format_count(settled_rate_);
    ++adoptions_;
    home_ = current_;
    settled_rate_ = home_best_ = rate;
    backoff_ = 1;
    windows_left_ = o_.settle_windows;
    return false;  // already training at that count
  }
  settled_rate_ = rate;
  if (rate < o_.drop * home_best_) {  // the machine got busy
    if (home_ + 1 < ladder_.size()) {  // fewer threads, now
      drop_probe_ = true;
      return start_probe(home_ + 1);
    }
    home_best_ = rate;  // at one thread already: the new normal
  }
  home_best_ = std::max(home_best_, rate);
  if (--windows_left_ > 0) return false;
  drop_probe_ = false;
  return start_probe(neighbour());
}

bool ThreadGovernor::start_probe(std::size_t to) {
  current_ = to;
  last_probe_down_ = current_ > home_;
  probing_ = true;
  skip_next_ = true;
  return true;
}

bool ThreadGovernor::lose_probe(bool plainly) {
  probing_ = false;
  current_ = home_;
  backoff_ = std::min(backoff_ * (plainly ? 4 : 2), o_.max_backoff);
  windows_left_ = o_.settle_windows * backoff_;
  if (drop_probe_) home_best_ = settled_rate_;  // busy, but home is still the best: the new normal
  drop_probe_ = false;
  skip_next_ = true;
  window_ = {};
  slow_ = {};
  return true;
}

// Fewer threads first; with both neighbours, the direction not tried last.
std::size_t ThreadGovernor::neighbour() const {
  const bool down = home_ + 1 < ladder_.size(), up = home_ > 0;
  if (down && up) return last_probe_down_ ? home_ - 1 : home_ + 1;
  return down ? home_ + 1 : home_ - 1;
}

}  // namespace lrtune
