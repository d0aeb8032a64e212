#include "common/text_file.hpp"

#include <zlib.h>

#include <fstream>
#include <sstream>

namespace ct {

Result<std::string> read_text_file(const std::filesystem::path& path) {
  if (path.extension() != ".gz") {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Problem{ProblemKind::InternalError, "cannot read " + path.string()};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) return Problem{ProblemKind::InternalError, "cannot read " + path.string()};
  std::string text;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
  int error = Z_OK;
  const std::string message = n < 0 ? gzerror(file, &error) : "";
  gzclose(file);
  if (n < 0) return Problem{ProblemKind::InternalError, "cannot decompress " + path.string() + ": " + message};
  return text;
}

}  // namespace ct
