#pragma once
// Memory for the operations behind a WebSocket write, bound to the write's completion
// handler with asio::bind_allocator: blocks are kept per size on free lists of the
// thread that frees them and handed out again, so a delivered push costs no malloc
// once warm. Asio's own per-thread cache keeps two blocks, too few when one Redis read
// delivers pushes to hundreds of sockets at once. Bounded: at most 1,024 blocks of
// each size (64-byte steps up to 2 KiB) are kept per thread; larger ones are not kept.
#include <cstddef>

namespace alliance::gateway {

namespace handler_memory {
void* allocate(std::size_t bytes);
void deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace handler_memory

template <class T>
struct HandlerAllocator {
  using value_type = T;
  HandlerAllocator() noexcept = default;
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>&) noexcept {}  // rebinding converts implicitly
  T* allocate(std::size_t n) { return static_cast<T*>(handler_memory::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { handler_memory::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const HandlerAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const HandlerAllocator<U>&) const noexcept {
    return false;
  }
};

}  // namespace alliance::gateway
