// SPDX-License-Identifier: ISC
#pragma once
// An ELF file's load layout and dynamic symbols, read with <elf.h> alone: enough to find where a
// running program keeps an exported variable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fcgimux::php_trace {

/// A symbol of .dynsym: its address as linked (before the load bias) and its size in bytes.
struct elf_symbol {
  std::uint64_t value = 0;
  std::uint64_t size = 0;
};

/// A 64-bit little-endian ELF file open at a descriptor the caller owns; every offset it reads
/// is checked against the file's size, so a truncated or hostile file gives an error, not a crash.
class elf_file {
 public:
  /// Reads the headers; ok() says whether it is an ELF file this tool reads, error() why not.
  explicit elf_file(int fd);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  /// ET_DYN (a PIE executable): its addresses move by the load bias.
  bool position_independent() const { return position_independent_; }
  /// The lowest PT_LOAD virtual address, page aligned: where the mapping at file offset 0 starts.
  std::uint64_t first_load_address() const { return first_load_; }

  /// The defined symbol `name` of .dynsym, or nothing (error() then says why).
  std::optional<elf_symbol> dynamic_symbol(std::string_view name);
  /// Whether the bytes of `text` occur anywhere in the file.
  bool contains(std::string_view text);

 private:
  bool read_at(std::uint64_t offset, void* out, std::size_t n);

  int fd_;
  std::uint64_t file_size_ = 0;
  std::string error_;
  bool position_independent_ = false;
  std::uint64_t first_load_ = 0;
  std::uint64_t section_headers_ = 0;
  unsigned section_count_ = 0;
};

}  // namespace fcgimux::php_trace
