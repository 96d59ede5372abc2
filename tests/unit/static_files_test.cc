// StaticFiles: which request targets reach which files, and that nothing outside the root does.
#include "static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace superline {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("superline-static-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "site" / "js");
    fs::create_directories(base_ / "site" / "empty");
    fs::create_directories(base_ / "site" / ".git");
    write(base_ / "site" / "index.html", "<p>hi</p>");
    write(base_ / "site" / "js" / "app.js", "1");
    write(base_ / "site" / "a+b c.txt", "x");
    write(base_ / "site" / ".git" / "config", "secret");
    write(base_ / "secret.txt", "outside");
    fs::create_symlink(base_ / "secret.txt", base_ / "site" / "out.txt");
    fs::create_symlink(base_, base_ / "site" / "up");
    fs::create_symlink(base_ / "site" / "js" / "app.js", base_ / "site" / "in.js");
    files_ = std::make_unique<StaticFiles>(*StaticFiles::open((base_ / "site").string()));
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  // The file served for `target` relative to the root, or "404"/"400".
  std::string get(std::string_view target) {
    StaticFiles::File file;
    StaticFiles::Miss miss;
    if (!files_->resolve(target, &file, &miss)) return std::to_string(static_cast<int>(miss.status));
    return fs::relative(file.path, fs::canonical(base_ / "site")).string();
  }

  fs::path base_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesAndADirectorysIndex) {
  EXPECT_EQ(get("/"), "index.html");
  EXPECT_EQ(get("/index.html?v=3#top"), "index.html");
  EXPECT_EQ(get("/js/app.js"), "js/app.js");
  EXPECT_EQ(get("//js//app.js"), "js/app.js");
  EXPECT_EQ(get("/a+b%20c.txt"), "a+b c.txt");  // '+' is a plus in a path
  EXPECT_EQ(get("/in.js"), "js/app.js");        // a symlink that stays inside
}

TEST_F(StaticFilesTest, NeverListsADirectoryOrFindsWhatIsNotThere) {
  EXPECT_EQ(get("/empty/"), "404");
  EXPECT_EQ(get("/empty"), "404");
  EXPECT_EQ(get("/js/"), "404");
  EXPECT_EQ(get("/nope.html"), "404");
}

TEST_F(StaticFilesTest, NothingOutsideTheRoot) {
  for (const char* target : {"/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                             "/js/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/.%2e/secret.txt",
                             "/..\\secret.txt", "/out.txt", "/up/secret.txt", "/./index.html",
                             "/.git/config", "/%2egit/config"}) {
    EXPECT_EQ(get(target), "404") << target;
  }
}

TEST_F(StaticFilesTest, ATargetThatCannotBeReadIs400) {
  for (const char* target : {"index.html", "", "/%zz", "/%2", "/a%00b", "http://host/index.html"}) {
    EXPECT_EQ(get(target), "400") << target;
  }
}

TEST_F(StaticFilesTest, ContentTypes) {
  EXPECT_EQ(StaticFiles::content_type("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type("a.js.map"), "application/json");
  EXPECT_EQ(StaticFiles::content_type("a.bin"), "application/octet-stream");
}

TEST(StaticFilesOpen, RefusesWhatIsNotADirectory) {
  EXPECT_FALSE(StaticFiles::open("/nonexistent-superline-dir").ok());
}

}  // namespace
}  // namespace superline
