#include "src/app/pidfile.hpp"

#include "src/base/log.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace fcgimux {

bool write_pidfile(const std::string& path, int pid) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid << '\n';
    if (!out.flush()) {
      log::info("pidfile {}: cannot write it: {}", path, std::strerror(errno));
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    log::info("pidfile {}: {}", path, std::strerror(errno));
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

void remove_pidfile(const std::string& path, int pid) {
  std::ifstream in(path);
  int named = 0;
  if (in >> named && named == pid) std::remove(path.c_str());
}

}  // namespace fcgimux
