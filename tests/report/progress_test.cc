// Tests of Progress with an injected clock and an ostringstream: the Tty bar (carriage returns,
// percentage, rate, ETA, width, throttling to ~10 redraws a second), Plain lines (no '\r', at
// most one per 5 s), Quiet, finish's idempotence, durations, and concurrent advance.
#include "benchtop/report/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "benchtop/core/error.h"

namespace benchtop {
namespace {

// A clock the test moves by hand.
struct FakeClock {
    double now = 0;
    std::function<double()> fn() {
        return [this] { return now; };
    }
};

size_t count(const std::string& s, char c) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), c));
}

// The text of the last redraw of a Tty output.
std::string last_frame(const std::string& s) {
    const size_t at = s.rfind('\r');
    return at == std::string::npos ? s : s.substr(at + 1);
}

TEST(Progress, TtyShowsBarPercentRateAndEta) {
    FakeClock clock;
    std::ostringstream os;
    Progress p(100, "train", Progress::Mode::Tty, &os, clock.fn());
    EXPECT_EQ(p.mode(), Progress::Mode::Tty);
    EXPECT_NE(os.str().find('\r'), std::string::npos);  // the empty bar is drawn at once
    EXPECT_NE(os.str().find("ETA --"), std::string::npos);
    EXPECT_NE(os.str().find("  0% 0/100"), std::string::npos);

    clock.now = 10;
    p.set_note("mlp seed 3");
    p.advance(25);
    const std::string frame = last_frame(os.str());
    EXPECT_EQ(frame.rfind("train [", 0), 0u) << frame;
    EXPECT_NE(frame.find(" 25% 25/100"), std::string::npos) << frame;
    EXPECT_NE(frame.find("2.50 it/s"), std::string::npos) << frame;
    EXPECT_NE(frame.find("elapsed 0:10"), std::string::npos) << frame;
    EXPECT_NE(frame.find("ETA 0:30"), std::string::npos) << frame;
    EXPECT_NE(frame.find("mlp seed 3"), std::string::npos) << frame;
    EXPECT_LE(frame.size(), 99u);
    const size_t hashes = count(frame, '#');
    const size_t dots = count(frame.substr(0, frame.find(']')), '.');
    EXPECT_EQ(hashes, (hashes + dots) / 4) << frame;  // a quarter of the bar is filled
    EXPECT_EQ(os.str().find('\n'), std::string::npos);

    clock.now = 40;
    p.advance(75);
    p.finish();
    const std::string out = os.str();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back(), '\n');
    EXPECT_NE(last_frame(out).find("100% 100/100"), std::string::npos) << out;
    EXPECT_NE(last_frame(out).find("ETA 0:00"), std::string::npos) << out;
    p.finish();  // idempotent
    EXPECT_EQ(os.str(), out);
}

TEST(Progress, TtyRedrawsAtMostTenTimesASecond) {
    FakeClock clock;
    std::ostringstream os;
    Progress p(100000, "sweep", Progress::Mode::Tty, &os, clock.fn());
    ASSERT_EQ(count(os.str(), '\r'), 1u);  // initial frame
    clock.now = 1.0;
    for (int i = 0; i < 1000; ++i) {
        p.advance();
        clock.now += 0.00001;  // 1000 advances within 0.01 s
    }
    EXPECT_EQ(count(os.str(), '\r'), 2u);
    clock.now = 1.05;
    p.advance();
    EXPECT_EQ(count(os.str(), '\r'), 2u);
    clock.now = 1.11;
    p.advance();
    EXPECT_EQ(count(os.str(), '\r'), 3u);
    EXPECT_NE(last_frame(os.str()).find("1002/100000"), std::string::npos);
}

TEST(Progress, TtyLineFitsHundredColumns) {
    const std::string long_label(80, 'L');
    const std::string long_note(120, 'n');
    for (const auto& [label, note] : std::vector<std::pair<std::string, std::string>>{
             {"x", ""}, {long_label, ""}, {"x", long_note}, {long_label, long_note}}) {
        const std::string line = Progress::tty_line(label, 123456, 1000000, 3700, note);
        EXPECT_LE(line.size(), 99u) << line;
        EXPECT_NE(line.find("[#"), std::string::npos) << line;
        EXPECT_NE(line.find(" 12% 123456/1000000"), std::string::npos) << line;
        EXPECT_NE(line.find("elapsed 1:01:40"), std::string::npos) << line;
    }
    const std::string short_line = Progress::tty_line("fit", 450, 1000, 36.5, "mlp seed 3");
    EXPECT_EQ(short_line.rfind("fit [", 0), 0u) << short_line;
    EXPECT_NE(short_line.find("]  45% 450/1000  12.3 it/s  elapsed 0:36  ETA 0:45  mlp seed 3"),
              std::string::npos)
        << short_line;
}

TEST(Progress, DurationsUseHoursFromOneHourOn) {
    EXPECT_EQ(Progress::format_duration(0), "0:00");
    EXPECT_EQ(Progress::format_duration(59.9), "0:59");
    EXPECT_EQ(Progress::format_duration(61), "1:01");
    EXPECT_EQ(Progress::format_duration(3599), "59:59");
    EXPECT_EQ(Progress::format_duration(3600), "1:00:00");
    EXPECT_EQ(Progress::format_duration(3725), "1:02:05");
    EXPECT_EQ(Progress::format_duration(-5), "0:00");
    // 1% in 100 s: 9900 s (2:45:00) to go.
    EXPECT_NE(Progress::plain_line("t", 1, 100, 100, "").find("ETA 2:45:00"), std::string::npos);
}

TEST(Progress, PlainPrintsALineAtMostEveryFiveSeconds) {
    FakeClock clock;
    std::ostringstream os;
    Progress p(200, "eval", Progress::Mode::Plain, &os, clock.fn());
    EXPECT_EQ(os.str(), "");
    for (double t : {1.0, 2.0, 4.9}) {
        clock.now = t;
        p.advance(10);
    }
    EXPECT_EQ(os.str(), "");
    clock.now = 5.0;
    p.advance(20);
    EXPECT_EQ(os.str(), "eval: 50/200 (25%) elapsed 0:05 ETA 0:15\n");
    clock.now = 9.9;
    p.advance(10);
    EXPECT_EQ(count(os.str(), '\n'), 1u);
    clock.now = 10.0;
    p.set_note("seed 2");
    p.advance(10);
    EXPECT_EQ(count(os.str(), '\n'), 2u);
    EXPECT_NE(os.str().find("eval: 70/200 (35%) elapsed 0:10 ETA 0:19  seed 2\n"),
              std::string::npos)
        << os.str();
    clock.now = 11;
    p.finish();
    p.finish();
    EXPECT_EQ(count(os.str(), '\n'), 3u);
    EXPECT_EQ(os.str().find('\r'), std::string::npos);
    EXPECT_NE(os.str().find("eval: 70/200 (35%) elapsed 0:11"), std::string::npos) << os.str();
}

TEST(Progress, QuietPrintsNothingAndAutoOnAStringStreamIsPlain) {
    FakeClock clock;
    std::ostringstream quiet_os;
    {
        Progress q(10, "q", Progress::Mode::Quiet, &quiet_os, clock.fn());
        for (int i = 0; i < 10; ++i) {
            clock.now += 10;
            q.advance();
        }
        q.finish();
        EXPECT_EQ(q.done(), 10);
    }
    EXPECT_EQ(quiet_os.str(), "");

    std::ostringstream auto_os;
    {
        Progress a(4, "auto", Progress::Mode::Auto, &auto_os, clock.fn());
        EXPECT_EQ(a.mode(), Progress::Mode::Plain);
        a.advance(4);
    }  // the destructor finishes
    EXPECT_EQ(count(auto_os.str(), '\n'), 1u);
    EXPECT_NE(auto_os.str().find("auto: 4/4 (100%)"), std::string::npos) << auto_os.str();
    EXPECT_THROW(Progress(-1, "bad", Progress::Mode::Quiet), Error);
}

TEST(Progress, ConcurrentAdvanceReachesTheTotalExactly) {
    constexpr int kThreads = 4, kPerThread = 25000;
    std::ostringstream os;
    Progress p(kThreads * kPerThread, "threads", Progress::Mode::Tty, &os);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < kPerThread; ++i) p.advance();
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(p.done(), kThreads * kPerThread);
    p.finish();
    EXPECT_NE(last_frame(os.str()).find("100% 100000/100000"), std::string::npos)
        << last_frame(os.str());
}

}  // namespace
}  // namespace benchtop

namespace benchtop {
namespace {

TEST(ProgressCounts, HiddenCountsShowPercentElapsedAndEta) {
    std::string tty = Progress::tty_line("sweep", 250, 1000, 10.0, "3/8 runs", false);
    EXPECT_NE(tty.find(" 25%"), std::string::npos) << tty;
    EXPECT_NE(tty.find("ETA 0:30"), std::string::npos) << tty;
    EXPECT_EQ(tty.find("250/1000"), std::string::npos) << tty;
    EXPECT_EQ(tty.find("it/s"), std::string::npos) << tty;
    EXPECT_NE(tty.find("3/8 runs"), std::string::npos) << tty;
    std::string plain = Progress::plain_line("sweep", 250, 1000, 10.0, "", false);
    EXPECT_EQ(plain, "sweep: 25% elapsed 0:10 ETA 0:30");
}

}  // namespace
}  // namespace benchtop
