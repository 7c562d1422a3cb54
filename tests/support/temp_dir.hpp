// SPDX-License-Identifier: ISC
#pragma once

#include <string>

namespace fcgimux::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "fcgimux-test");
  temp_dir(temp_dir&& o) noexcept;
  temp_dir& operator=(temp_dir&&) = delete;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir();

  /// The directory's absolute path.
  const std::string& path() const noexcept { return path_; }
  /// path() + "/" + name.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `content` to `path` (mode 0644, or 0755 if executable); throws on failure.
void write_file(const std::string& path, const std::string& content, bool executable = false);
/// The whole file, or "" if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace fcgimux::test
