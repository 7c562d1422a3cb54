// SPDX-License-Identifier: ISC
// The only file that sees PHP's headers: the structures are copied out of the other process whole
// and read here by their own types, so a field's offset is always the compiler's, never ours.
#include "php_stack.hpp"

#include <cstring>
#include <set>
#include <sstream>

// PHP's headers wrap their own declarations in extern "C" (BEGIN_EXTERN_C).
#include "php_version.h"
#include "zend.h"
#include "zend_build.h"
#include "zend_compile.h"
#include "zend_globals.h"
#include "zend_modules.h"

namespace fcgimux::php_trace {
namespace {

// A PHP string of the other process: its header, then at most `limit` bytes of it.
bool read_string(process_memory& mem, std::uint64_t at, std::string& out, std::size_t limit = 4096) {
  zend_string head;
  if (!mem.read(at, &head, offsetof(zend_string, val))) return false;
  out.resize(std::min<std::size_t>(head.len, limit));
  return mem.read(at + offsetof(zend_string, val), out.data(), out.size());
}

std::uint64_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// The name of the function a frame runs, as php-fpm prints it.
bool function_name(process_memory& mem, const zend_execute_data& frame, std::string& name) {
  zend_function f;
  if (!mem.read(address_of(frame.func), &f, sizeof f.common)) return false;
  if (f.common.function_name) {
    if (!read_string(mem, address_of(f.common.function_name), name)) return false;
    if (f.common.scope) {
      zend_string* class_name = nullptr;
      std::string scope;
      if (!mem.read(address_of(f.common.scope) + offsetof(zend_class_entry, name), &class_name, sizeof class_name) ||
          !read_string(mem, address_of(class_name), scope))
        return false;
      name = scope + "::" + name;
    }
    return true;
  }
  // No name: a script's own code, included or evaluated by the opline that called it.
  name = "???";
  if (!frame.prev_execute_data) return true;
  zend_execute_data caller;
  zend_op op;
  if (!mem.read(address_of(frame.prev_execute_data), &caller, sizeof caller)) return false;
  if (!caller.func || !caller.opline || !mem.read(address_of(caller.opline), &op, sizeof op)) return true;
  if (op.opcode != ZEND_INCLUDE_OR_EVAL) return true;
  switch (op.extended_value) {
    case ZEND_EVAL: name = "eval"; break;
    case ZEND_INCLUDE: name = "include"; break;
    case ZEND_INCLUDE_ONCE: name = "include_once"; break;
    case ZEND_REQUIRE: name = "require"; break;
    case ZEND_REQUIRE_ONCE: name = "require_once"; break;
    default: break;
  }
  return true;
}

// Where a frame was called from: the nearest frame outward that runs PHP code, and its line.
bool call_site(process_memory& mem, const zend_execute_data& frame, unsigned bound, php_frame& out) {
  out.file = "[no active file]";
  std::uint64_t at = address_of(frame.prev_execute_data);
  for (unsigned i = 0; at != 0 && i < bound; ++i) {
    zend_execute_data e;
    if (!mem.read(at, &e, sizeof e)) return false;
    zend_function f;
    if (e.func && mem.read(address_of(e.func), &f, sizeof f.type) && ZEND_USER_CODE(f.type)) {
      zend_op op;
      if (!mem.read(address_of(e.func), &f, sizeof f.op_array) ||
          !read_string(mem, address_of(f.op_array.filename), out.file) ||
          !mem.read(address_of(e.opline), &op, sizeof op))
        return false;
      out.line = op.lineno;
      return true;
    }
    at = address_of(e.prev_execute_data);
  }
  return true;
}

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

}  // namespace

std::string_view php_version() { return PHP_VERSION; }

std::string_view php_build_id() { return ZEND_MODULE_BUILD_ID; }

std::size_t executor_globals_size() { return sizeof(zend_executor_globals); }

bool php_stack(process_memory& mem, std::uint64_t executor_globals, unsigned depth, std::vector<php_frame>& frames,
               std::string& error) {
  zend_execute_data* current = nullptr;
  if (!mem.read(executor_globals + offsetof(zend_executor_globals, current_execute_data), &current, sizeof current)) {
    error = mem.error();
    return false;
  }
  std::set<std::uint64_t> seen;
  for (std::uint64_t at = address_of(current); at != 0 && frames.size() < depth;) {
    if (!seen.insert(at).second) {
      error = "the frames loop at " + hex(at);
      return false;
    }
    zend_execute_data frame;
    if (!mem.read(at, &frame, sizeof frame)) {
      error = mem.error();
      return false;
    }
    // A script's top frame is no function: php-fpm's trace ends there too.
    if (frame.func && ZEND_CALL_KIND_EX(ZEND_CALL_INFO(&frame)) != ZEND_CALL_TOP_CODE) {
      php_frame out;
      out.address = at;
      if (!function_name(mem, frame, out.function) || !call_site(mem, frame, depth + 64, out)) {
        error = mem.error();
        return false;
      }
      frames.push_back(std::move(out));
    }
    at = address_of(frame.prev_execute_data);
  }
  return true;
}

}  // namespace fcgimux::php_trace
