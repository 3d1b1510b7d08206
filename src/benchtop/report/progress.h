// Progress: a thread-safe progress bar for long runs (sweeps, training loops), so that a user
// sees how far along a run is and when it will end. On a terminal it redraws one line in place
// (at most ~10 times a second); into a log file or pipe it prints a plain line at most every 5 s;
// Quiet prints nothing. The clock can be injected so that tests control time.
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>

namespace benchtop {

class Progress {
public:
    // Auto: Tty if `out` is std::cerr/std::clog and stderr is a terminal (or std::cout and stdout
    // is one) and TERM is not "dumb"; Plain otherwise.
    enum class Mode { Auto, Tty, Plain, Quiet };

    // total: the number of work units (>= 0). clock: seconds from any fixed origin; the default
    // is std::chrono::steady_clock. A Tty bar draws its first (empty) state at once.
    Progress(int64_t total,
             std::string label,
             Mode mode = Mode::Auto,
             std::ostream* out = &std::cerr,
             std::function<double()> clock = {});
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Adds n done work units (thread-safe) and redraws if the throttle allows.
    void advance(int64_t n = 1);
    // Short text shown after the bar (e.g. "mlp seed 3"); shown at the next redraw.
    void set_note(std::string note);
    // false: the units are not meaningful to a reader (e.g. estimated microseconds of mixed
    // runs), so show only the percentage, elapsed time and ETA.
    void set_show_counts(bool show);
    // Prints the final state (Tty: the bar and '\n'; Plain: one line). Idempotent.
    void finish();

    Mode mode() const { return mode_; }  // the resolved mode (never Auto)
    int64_t done() const;

    // The text of a Tty line / a Plain line for the given state (exposed for tests and for callers
    // that print progress themselves). elapsed in seconds.
    static std::string tty_line(const std::string& label,
                                int64_t done,
                                int64_t total,
                                double elapsed,
                                const std::string& note,
                                bool counts = true);
    static std::string plain_line(const std::string& label,
                                  int64_t done,
                                  int64_t total,
                                  double elapsed,
                                  const std::string& note,
                                  bool counts = true);
    // m:ss below one hour, h:mm:ss from one hour on (seconds rounded down; negative -> 0).
    static std::string format_duration(double seconds);

private:
    void draw_locked(double now, bool final);

    mutable std::mutex mu_;
    int64_t total_;
    std::string label_;
    Mode mode_;
    std::ostream* out_;
    std::function<double()> clock_;
    double start_ = 0;
    double last_draw_ = 0;
    int64_t done_ = 0;
    std::string note_;
    size_t last_width_ = 0;  // Tty: length of the line on screen, to blank leftovers
    bool finished_ = false;
    bool show_counts_ = true;
};

}  // namespace benchtop
