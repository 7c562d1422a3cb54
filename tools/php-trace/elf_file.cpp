// SPDX-License-Identifier: ISC
#include "elf_file.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace fcgimux::php_trace {

elf_file::elf_file(int fd) : fd_(fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error_ = std::string("cannot stat: ") + std::strerror(errno);
    return;
  }
  file_size_ = static_cast<std::uint64_t>(st.st_size);
  Elf64_Ehdr eh;
  if (!read_at(0, &eh, sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    error_ = "not an ELF file";
    return;
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    error_ = "not a 64-bit little-endian ELF file";
    return;
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    error_ = "not an executable";
    return;
  }
  position_independent_ = eh.e_type == ET_DYN;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr)) {
    error_ = "unexpected ELF header sizes";
    return;
  }
  bool any_load = false;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!read_at(eh.e_phoff + std::uint64_t{i} * sizeof ph, &ph, sizeof ph)) {
      error_ = "truncated program headers";
      return;
    }
    if (ph.p_type != PT_LOAD) continue;
    const std::uint64_t page = ph.p_vaddr & ~std::uint64_t{0xfff};
    if (!any_load || page < first_load_) first_load_ = page;
    any_load = true;
  }
  if (!any_load) error_ = "no loadable segment";
  section_headers_ = eh.e_shoff;
  section_count_ = eh.e_shnum;
}

bool elf_file::read_at(std::uint64_t offset, void* out, std::size_t n) {
  if (offset > file_size_ || n > file_size_ - offset) return false;
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got, offset += static_cast<std::uint64_t>(got), n -= static_cast<std::size_t>(got);
  }
  return true;
}

std::optional<elf_symbol> elf_file::dynamic_symbol(std::string_view name) {
  if (!ok()) return std::nullopt;
  for (unsigned i = 0; i < section_count_; ++i) {
    Elf64_Shdr sh, strings;
    if (!read_at(section_headers_ + std::uint64_t{i} * sizeof sh, &sh, sizeof sh)) break;
    if (sh.sh_type != SHT_DYNSYM || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
    if (sh.sh_link >= section_count_ ||
        !read_at(section_headers_ + std::uint64_t{sh.sh_link} * sizeof strings, &strings, sizeof strings) ||
        strings.sh_type != SHT_STRTAB || strings.sh_size > file_size_) {
      error_ = "a .dynsym without its string table";
      return std::nullopt;
    }
    std::vector<char> names(strings.sh_size);
    if (!read_at(strings.sh_offset, names.data(), names.size())) {
      error_ = "truncated .dynstr";
      return std::nullopt;
    }
    const std::uint64_t count = sh.sh_size / sizeof(Elf64_Sym);
    for (std::uint64_t k = 0; k < count; ++k) {
      Elf64_Sym sym;
      if (!read_at(sh.sh_offset + k * sizeof sym, &sym, sizeof sym)) {
        error_ = "truncated .dynsym";
        return std::nullopt;
      }
      if (sym.st_shndx == SHN_UNDEF || sym.st_name >= names.size()) continue;
      // The name must end inside the table: a name running off its end is no match.
      const char* s = names.data() + sym.st_name;
      const std::size_t room = names.size() - sym.st_name;
      const std::size_t len = ::strnlen(s, room);
      if (len < room && std::string_view(s, len) == name) return elf_symbol{sym.st_value, sym.st_size};
    }
  }
  error_ = "exports no symbol " + std::string(name);
  return std::nullopt;
}

bool elf_file::contains(std::string_view text) {
  if (text.empty()) return true;
  std::vector<char> buf(1 << 16);
  std::string window;  // the end of the previous chunk, so a match across two chunks is found
  for (std::uint64_t at = 0; at < file_size_;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), file_size_ - at));
    if (!read_at(at, buf.data(), n)) return false;
    window.append(buf.data(), n);
    if (window.find(text) != std::string::npos) return true;
    window.erase(0, window.size() - std::min(window.size(), text.size() - 1));
    at += n;
  }
  return false;
}

}  // namespace fcgimux::php_trace
