// Progress: formatting of the bar and plain lines, throttling, terminal detection.
#include "benchtop/report/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "benchtop/core/error.h"

namespace benchtop {
namespace {

constexpr size_t kTtyColumns = 100;  // the line fits 100 columns (uses at most 99: no wrap)
constexpr size_t kMinBar = 10, kMaxBar = 30;
constexpr double kTtyInterval = 0.1;    // s between two redraws of the bar
constexpr double kPlainInterval = 5.0;  // s between two plain lines

double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string sanitize(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return s;
}

int percent(int64_t done, int64_t total) {
    if (total <= 0) return 100;
    return static_cast<int>(std::clamp<int64_t>(done, 0, total) * 100 / total);
}

std::string eta_text(int64_t done, int64_t total, double elapsed) {
    if (done >= total) return "0:00";
    if (done <= 0 || elapsed <= 0) return "--";
    const double eta = elapsed * static_cast<double>(total - done) / static_cast<double>(done);
    return Progress::format_duration(std::round(eta));
}

std::string rate_text(int64_t done, double elapsed) {
    if (done <= 0 || elapsed <= 0) return "--";
    const double rate = static_cast<double>(done) / elapsed;
    char buf[32];
    std::snprintf(buf, sizeof buf, rate < 10 ? "%.2f" : rate < 1000 ? "%.1f" : "%.0f", rate);
    return buf;
}

bool stream_is_terminal(const std::ostream* out) {
    const char* term = std::getenv("TERM");
    if (term && std::strcmp(term, "dumb") == 0) return false;
    if (out == &std::cerr || out == &std::clog) return isatty(fileno(stderr)) != 0;
    if (out == &std::cout) return isatty(fileno(stdout)) != 0;
    return false;
}

}  // namespace

std::string Progress::format_duration(double seconds) {
    const int64_t s = std::isfinite(seconds) && seconds > 0 ? static_cast<int64_t>(seconds) : 0;
    char buf[48];
    if (s >= 3600) {
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    }
    return buf;
}

std::string Progress::tty_line(const std::string& label,
                               int64_t done,
                               int64_t total,
                               double elapsed,
                               const std::string& note,
                               bool counts) {
    char buf[160];
    if (counts)
        std::snprintf(buf, sizeof buf, "%3d%% %lld/%lld  %s it/s  elapsed %s  ETA %s",
                      percent(done, total), static_cast<long long>(done), static_cast<long long>(total),
                      rate_text(done, elapsed).c_str(), format_duration(elapsed).c_str(),
                      eta_text(done, total, elapsed).c_str());
    else
        std::snprintf(buf, sizeof buf, "%3d%%  elapsed %s  ETA %s", percent(done, total),
                      format_duration(elapsed).c_str(), eta_text(done, total, elapsed).c_str());
    const std::string stats = buf;
    std::string lab = label, nt = note;
    const size_t budget = kTtyColumns - 1;
    // label + " [" + bar + "] " + stats + ("  " + note): shrink the note, then the label, so that
    // the bar keeps at least kMinBar cells.
    auto fixed = [&] { return lab.size() + 4 + stats.size() + (nt.empty() ? 0 : 2 + nt.size()); };
    // Cuts s to at most `room` characters, marking the cut with "..." (or drops it when tiny).
    auto shorten = [](std::string& s, size_t room) {
        if (s.size() <= room) return;
        if (room < 4) {
            s.clear();
        } else {
            s.resize(room - 3);
            s.append("...");
        }
    };
    if (fixed() + kMinBar > budget && !nt.empty()) {
        const size_t over = fixed() + kMinBar - budget;
        shorten(nt, nt.size() > over ? nt.size() - over : 0);
    }
    if (fixed() + kMinBar > budget && !lab.empty()) {
        const size_t over = fixed() + kMinBar - budget;
        shorten(lab, lab.size() > over ? lab.size() - over : 0);
    }
    const size_t bar_w = std::clamp(budget > fixed() ? budget - fixed() : 0, kMinBar, kMaxBar);
    const size_t filled = total <= 0 ? bar_w
                                     : static_cast<size_t>(std::clamp<int64_t>(done, 0, total) *
                                                           static_cast<int64_t>(bar_w) / total);
    std::string line = lab;
    if (!line.empty()) line += ' ';
    line += '[';
    line.append(filled, '#');
    line.append(bar_w - filled, '.');
    line += "] ";  // the percentage is padded to 3 digits
    line += stats;
    if (!nt.empty()) line.append("  ").append(nt);
    if (line.size() > budget) line.resize(budget);
    return line;
}

std::string Progress::plain_line(const std::string& label,
                                 int64_t done,
                                 int64_t total,
                                 double elapsed,
                                 const std::string& note,
                                 bool counts) {
    char buf[128];
    if (counts)
        std::snprintf(buf, sizeof buf, "%lld/%lld (%d%%) elapsed %s ETA %s",
                      static_cast<long long>(done), static_cast<long long>(total), percent(done, total),
                      format_duration(elapsed).c_str(), eta_text(done, total, elapsed).c_str());
    else
        std::snprintf(buf, sizeof buf, "%d%% elapsed %s ETA %s", percent(done, total),
                      format_duration(elapsed).c_str(), eta_text(done, total, elapsed).c_str());
    std::string line = label;
    if (!line.empty()) line.append(": ");
    line.append(buf);
    if (!note.empty()) line.append("  ").append(note);
    return line;
}

Progress::Progress(
    int64_t total, std::string label, Mode mode, std::ostream* out, std::function<double()> clock)
    : total_(total),
      label_(sanitize(std::move(label))),
      mode_(mode),
      out_(out),
      clock_(clock ? std::move(clock) : std::function<double()>(steady_seconds)) {
    BENCHTOP_CHECK(total >= 0, "Progress '", label_, "': total must be >= 0, got ", total);
    if (out_ == nullptr) mode_ = Mode::Quiet;
    if (mode_ == Mode::Auto) mode_ = stream_is_terminal(out_) ? Mode::Tty : Mode::Plain;
    start_ = clock_();
    last_draw_ = start_;
    if (mode_ == Mode::Tty) {
        std::lock_guard<std::mutex> lock(mu_);
        draw_locked(start_, false);
    }
}

Progress::~Progress() {
    try {
        finish();
    } catch (...) {  // a destructor must not throw (e.g. a clock or stream failing)
    }
}

void Progress::advance(int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ += n;
    if (finished_ || mode_ == Mode::Quiet) return;
    const double now = clock_();
    const double interval = mode_ == Mode::Tty ? kTtyInterval : kPlainInterval;
    if (now - last_draw_ >= interval) draw_locked(now, false);
}

void Progress::set_note(std::string note) {
    std::lock_guard<std::mutex> lock(mu_);
    note_ = sanitize(std::move(note));
}

void Progress::set_show_counts(bool show) {
    std::lock_guard<std::mutex> lock(mu_);
    show_counts_ = show;
}

void Progress::finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
    if (mode_ != Mode::Quiet) draw_locked(clock_(), true);
}

int64_t Progress::done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
}

void Progress::draw_locked(double now, bool final) {
    last_draw_ = now;
    const double elapsed = now - start_;
    std::ostream& os = *out_;
    if (mode_ == Mode::Tty) {
        const std::string line = tty_line(label_, done_, total_, elapsed, note_, show_counts_);
        os << '\r' << line;
        if (line.size() < last_width_) os << std::string(last_width_ - line.size(), ' ');
        last_width_ = line.size();
        if (final) os << '\n';
    } else {
        os << plain_line(label_, done_, total_, elapsed, note_, show_counts_) << '\n';
    }
    os.flush();
}

}  // namespace benchtop
