// Output files appear whole or not at all: write to NAME.tmp.PID, then rename.
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace llmsim {

// Writes `content` to `path` atomically; creates parent directories. Throws
// std::runtime_error on I/O failure.
void write_file_atomic(const std::string& path, const std::string& content);

// Streams into a temporary file; commit() renames it into place. Destroying it
// uncommitted removes the temporary (no partial file is ever visible).
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  std::ostream& out();
  void commit();

 private:
  std::string path_, tmp_;
  std::ofstream* os_;
  bool committed_ = false;
};

// Creates `dir` and its missing parents; appends the ones it created to `created`.
void make_dirs(const std::string& dir, std::vector<std::string>* created = nullptr);

// The files `llmsim run` writes into its output folder.
inline const char* const kRunOutputs[] = {"summary.json", "requests.csv", "timeline.json", "signals.vcd",
                                           "config.resolved.yaml"};

// `run -o DIR`, before any input is loaded: creates DIR (and its parents), proves a file
// can be written there and removes the kRunOutputs an earlier run left. InputError (exit 2,
// naming the path) when DIR is empty, is a file, lies under a file, or cannot be written.
// Returns the folders it created, parents first (a run that fails removes them again).
std::vector<std::string> prepare_outdir(const std::string& dir);

}  // namespace llmsim
