// Small file-path helpers shared by the loaders and the output writers (one copy each: the
// library also compiles as a unity build, where two file-local copies would collide).
#pragma once

#include <string>

namespace llmsim {

// "dir/name.ext" -> "name": the last component without its last extension.
std::string path_stem(const std::string& path);

// "dir/name.ext" -> "dir"; "" when the path has no '/'.
std::string parent_dir(const std::string& path);

// True when the path names an existing regular file (not a folder).
bool is_regular_file(const std::string& path);

// The absolute, symlink-free form of an existing path (realpath); "" when it does not exist.
std::string real_path(const std::string& path);

// real_path, or `path` itself when it does not exist.
std::string real_path_or_given(const std::string& path);

}  // namespace llmsim
