#include "sim/output/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "sim/core/error.h"
#include "sim/core/paths.h"

namespace llmsim {

void make_dirs(const std::string& dir, std::vector<std::string>* created) {
  if (dir.empty()) return;
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && cur != ".") {
        if (::mkdir(cur.c_str(), 0755) == 0) {
          if (created) created->push_back(cur);
        } else if (errno != EEXIST) {
          throw std::runtime_error("cannot create directory '" + cur + "': " + std::strerror(errno));
        }
      }
    }
    if (i < dir.size()) cur += dir[i];
  }
}

std::vector<std::string> prepare_outdir(const std::string& dir) {
  auto refuse = [&](const std::string& why) {
    throw InputError({"-o", 0, 0}, "output directory '" + dir + "' " + why);
  };
  // An empty path would put DIR + "/summary.json" at the root of the file system.
  if (dir.empty()) throw InputError({"-o", 0, 0}, "the output directory is empty ('-o .' writes into this one)");
  std::vector<std::string> created;
  try {
    make_dirs(dir, &created);
  } catch (const std::runtime_error& e) {
    refuse(std::string("cannot be created (") + e.what() + ")");
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) refuse(std::string("cannot be read: ") + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) refuse("exists and is not a directory");
  // access() says yes to root on a read-only file system: write a probe instead.
  std::string probe = dir + "/.llmsim-probe." + std::to_string(::getpid());
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (!f) refuse(std::string("is not writable: ") + std::strerror(errno));
  std::fclose(f);
  std::remove(probe.c_str());
  // A run that fails must not leave the previous run's results to read as its own; only
  // the files `run` writes are removed (the folder may hold other things).
  for (const char* name : kRunOutputs) {
    std::string p = dir + "/" + name;
    if (std::remove(p.c_str()) != 0 && errno != ENOENT) {
      refuse("holds '" + std::string(name) + "' from an earlier run, which cannot be removed: " + std::strerror(errno));
    }
  }
  return created;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  make_dirs(parent_dir(path_));
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  os_ = new std::ofstream(tmp_, std::ios::binary | std::ios::trunc);
  if (!*os_) {
    delete os_;
    os_ = nullptr;
    throw std::runtime_error("cannot write '" + tmp_ + "': " + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (os_) {
    os_->close();
    delete os_;
  }
  if (!committed_) std::remove(tmp_.c_str());
}

std::ostream& AtomicFile::out() { return *os_; }

void AtomicFile::commit() {
  os_->flush();
  bool ok = static_cast<bool>(*os_);
  os_->close();
  delete os_;
  os_ = nullptr;
  if (!ok) throw std::runtime_error("error writing '" + tmp_ + "'");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    throw std::runtime_error("cannot rename '" + tmp_ + "' to '" + path_ + "': " + std::strerror(errno));
  }
  committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.out() << content;
  f.commit();
}

}  // namespace llmsim
