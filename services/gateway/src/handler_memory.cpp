#include "handler_memory.hpp"

#include <array>
#include <new>
#include <vector>

namespace alliance::gateway::handler_memory {
namespace {

constexpr std::size_t kGrain = 64;          // sizes are kept in steps of this
constexpr std::size_t kSizes = 32;          // up to 2 KiB; larger blocks go to operator new
constexpr std::size_t kKeptPerSize = 1024;  // a burst beyond this is given back

struct FreeLists {
  std::array<std::vector<void*>, kSizes> lists;
  ~FreeLists() {
    for (auto& list : lists)
      for (void* p : list) ::operator delete(p);
  }
};

thread_local FreeLists free_lists;

// 1..kSizes for a kept size, 0 for a block too large to keep.
std::size_t size_class(std::size_t bytes) {
  const std::size_t c = bytes == 0 ? 1 : (bytes + kGrain - 1) / kGrain;
  return c <= kSizes ? c : 0;
}

}  // namespace

void* allocate(std::size_t bytes) {
  const std::size_t c = size_class(bytes);
  if (c == 0) return ::operator new(bytes);
  auto& list = free_lists.lists[c - 1];
  if (list.empty()) return ::operator new(c * kGrain);
  void* p = list.back();
  list.pop_back();
  return p;
}

void deallocate(void* p, std::size_t bytes) noexcept {
  const std::size_t c = size_class(bytes);
  if (c != 0) {
    auto& list = free_lists.lists[c - 1];
    if (list.size() < kKeptPerSize) {
      try {
        list.push_back(p);
        return;
      } catch (const std::bad_alloc&) {  // the list could not grow: give the block back
      }
    }
  }
  ::operator delete(p);
}

}  // namespace alliance::gateway::handler_memory
