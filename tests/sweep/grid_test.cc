#include "benchtop/sweep/grid.h"

#include <gtest/gtest.h>

#include <cmath>

namespace benchtop {
namespace {

Schema demo_schema() {
    Schema s;
    s.choice("model", {"mlp", "cnn"}, Json::array({"mlp", "cnn"}), "architecture")
        .integer("width", 64, 1, 4096, "hidden units")
        .real("lr", 1e-2, 0.0, 10.0, "learning rate", true)
        .boolean("noise", false, "label noise on")
        .integer("seed", 0, 0, 1e9, "seed")
        .text("path", "", "a file");
    return s;
}

std::vector<Json> values(const Schema& s, const std::string& key, const std::string& text) {
    return parse_values(s.find(key), text);
}

TEST(Grid, ScalarsListsAndIntegerRanges) {
    Schema s = demo_schema();
    EXPECT_EQ(values(s, "width", "8"), std::vector<Json>{8});
    EXPECT_EQ(values(s, "width", "8,16,32"), (std::vector<Json>{8, 16, 32}));
    EXPECT_EQ(values(s, "seed", "0..4"), (std::vector<Json>{0, 1, 2, 3, 4}));
    EXPECT_EQ(values(s, "seed", "2..3,7"), (std::vector<Json>{2, 3, 7}));
    EXPECT_EQ(values(s, "noise", "true,false"), (std::vector<Json>{true, false}));
    EXPECT_EQ(values(s, "path", "a,b..c"), std::vector<Json>{"a,b..c"});  // text is taken whole
}

TEST(Grid, GeometricIntegerRangeIsRoundedAndDeduplicated) {
    std::vector<Json> v = values(demo_schema(), "width", "2..300:geom:19");
    ASSERT_GE(v.size(), 15u);
    EXPECT_EQ(v.front(), 2);
    EXPECT_EQ(v.back(), 300);
    for (size_t i = 1; i < v.size(); ++i) EXPECT_GT(v[i].get<int64_t>(), v[i - 1].get<int64_t>());
    // Geometric: the ratio between consecutive large values is about (300/2)^(1/18).
    double r = std::pow(150.0, 1.0 / 18.0);
    EXPECT_NEAR(v[v.size() - 1].get<double>() / v[v.size() - 2].get<double>(), r, 0.05);
    // Duplicates at the small end are dropped: 1..4:geom:10 has only 4 distinct integers.
    EXPECT_EQ(values(demo_schema(), "width", "1..4:geom:10"), (std::vector<Json>{1, 2, 3, 4}));
}

TEST(Grid, LogAndLinearRealRanges) {
    std::vector<Json> v = values(demo_schema(), "lr", "1e-3..1e-1:log:5");
    ASSERT_EQ(v.size(), 5u);
    EXPECT_DOUBLE_EQ(v[0].get<double>(), 1e-3);
    EXPECT_NEAR(v[1].get<double>(), std::pow(10.0, -2.5), 1e-12);
    EXPECT_NEAR(v[2].get<double>(), 1e-2, 1e-12);
    EXPECT_DOUBLE_EQ(v[4].get<double>(), 1e-1);
    std::vector<Json> l = values(demo_schema(), "lr", "0.1..0.5:lin:5");
    EXPECT_NEAR(l[2].get<double>(), 0.3, 1e-12);
}

TEST(Grid, BadValuesNameTheKeyAndWhatIsAllowed) {
    Schema s = demo_schema();
    auto msg = [&](const std::string& key, const std::string& text) {
        try {
            values(s, key, text);
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(msg("width", "0").find("width"), std::string::npos);
    EXPECT_NE(msg("width", "0").find("[1, 4096]"), std::string::npos);
    EXPECT_NE(msg("width", "abc").find("width"), std::string::npos);
    EXPECT_NE(msg("width", "2.5").find("integer"), std::string::npos);
    EXPECT_NE(msg("lr", "0").find("(0, 10]"), std::string::npos);
    EXPECT_NE(msg("model", "rnn").find("one of mlp, cnn"), std::string::npos);
    EXPECT_NE(msg("noise", "maybe").find("true or false"), std::string::npos);
    EXPECT_NE(msg("width", "5..2").find("below"), std::string::npos);
    EXPECT_NE(msg("lr", "0.1..1").find("spacing"), std::string::npos);
    EXPECT_NE(msg("lr", "0.1..1:cubic:3").find("cubic"), std::string::npos);
    EXPECT_NE(msg("model", "a..b").find("numeric"), std::string::npos);
}

TEST(Grid, UnknownKeySuggestsTheNearest) {
    Schema s = demo_schema();
    try {
        parse_overrides(s, {"widht=3"});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("'widht'"), std::string::npos);
        EXPECT_NE(m.find("did you mean width"), std::string::npos);
        EXPECT_NE(m.find("model, width, lr, noise, seed, path"), std::string::npos);
    }
    EXPECT_THROW(parse_overrides(s, {"width"}), UsageError);
    EXPECT_THROW(parse_overrides(s, {"width=2", "width=3"}), UsageError);
}

TEST(Grid, ExpansionIsTheCartesianProductInSchemaOrder) {
    Schema s = demo_schema();
    std::vector<Json> g = expand_grid(s, parse_overrides(s, {"seed=0..2", "width=8,16"}));
    // model (array default, 2) x width (2) x seed (3).
    ASSERT_EQ(g.size(), 12u);
    EXPECT_EQ(g[0]["model"], "mlp");
    EXPECT_EQ(g[0]["width"], 8);
    EXPECT_EQ(g[0]["seed"], 0);
    EXPECT_EQ(g[1]["seed"], 1);
    EXPECT_EQ(g[3]["width"], 16);
    EXPECT_EQ(g[6]["model"], "cnn");
    EXPECT_EQ(g[11]["lr"], 1e-2);
    EXPECT_EQ(swept_keys(s, parse_overrides(s, {"seed=0..2", "width=8,16"})),
              (std::vector<std::string>{"model", "width", "seed"}));
    // An override replaces a list default.
    EXPECT_EQ(expand_grid(s, parse_overrides(s, {"model=cnn"})).size(), 1u);
}

}  // namespace
}  // namespace benchtop
