#include "sim/core/paths.h"

#include <sys/stat.h>

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

}  // namespace llmsim
