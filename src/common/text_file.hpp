#pragma once
// Reading a whole data file into memory: plain, or gzip-compressed when its name ends in ".gz" (the
// demo city ships its larger real data sets compressed).
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace ct {

// The file's bytes (decompressed for *.gz). A missing, unreadable or corrupt file is an InternalError
// problem naming the path.
Result<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace ct
