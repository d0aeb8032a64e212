// The headers nearly every translation unit parses, precompiled once per target in the sanitizer and fuzz
// builds (citytwin_precompile in CityTwinLibrary.cmake): parsing them was about half the compile time of a
// typical file there (12 to 17 s of 27 to 39 s in the asan build, measured with -ftime-report;
// docs/benchmarks.md, "CI time"). Only third-party and standard headers belong here: a project header would
// make every file rebuild when it changes. Being force-included, these would hide a missing #include; the
// release build and clang-tidy (scripts/tidy.sh) do not use them and still see each file as written.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
