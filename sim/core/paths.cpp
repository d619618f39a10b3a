#include "sim/core/paths.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

namespace llmsim {

std::string path_stem(const std::string& path) {
  auto s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  auto d = b.find_last_of('.');
  return d == std::string::npos ? b : b.substr(0, d);
}

std::string parent_dir(const std::string& path) {
  auto s = path.find_last_of('/');
  return s == std::string::npos ? "" : path.substr(0, s);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

std::string real_path_or_given(const std::string& path) {
  const std::string r = real_path(path);
  return r.empty() ? path : r;
}

}  // namespace llmsim
