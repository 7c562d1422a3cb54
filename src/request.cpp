#include "src/request.hpp"

#include "proto/name_value.hpp"
#include "src/event_signal.hpp"

namespace fcgimux {

void request::notify_exchange() {
  if (front_event) front_event->notify();
}

void request::note_params() {
  auto u = proto::find_name_value(params, "REQUEST_URI");
  if (!u.found) u = proto::find_name_value(params, "SCRIPT_NAME");
  if (u.found) uri.assign(u.value.substr(0, 512));
  auto sn = proto::find_name_value(params, "SCRIPT_NAME");
  if (sn.found) script_name.assign(sn.value.substr(0, 512));
  auto m = proto::find_name_value(params, "REQUEST_METHOD");
  if (m.found) method.assign(m.value.substr(0, 16));
}

}  // namespace fcgimux
