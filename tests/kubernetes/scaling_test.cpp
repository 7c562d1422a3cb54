// SPDX-License-Identifier: ISC
// The autoscaling loop without a cluster: Debian's real Prometheus scrapes the fcgimux instances;
// the PromQL of the Prometheus Adapter rule and of the KEDA ScaledObject, read from the rendered
// overlays, is asked every sync; the HPA's documented rule turns the answers into a replica count
// (desired = ceil(current x metric / target), tolerance 0.1, the scale-down stabilization window);
// and the harness starts and stops fcgimux instances behind nginx as that count says, the way a
// Deployment would (a new one enters nginx's upstream once /healthz says 200; one that goes leaves
// it first and then gets SIGTERM with --shutdown-delay). Under a load step the count must rise, after
// it fall, and no request may fail. Time is scaled: sync 3 s for 15 s, stabilization 15 s for the
// manifest's 300 s; the metric's own 30 s window is fcgimux's and is not.

#include "tests/kubernetes/nginx_front.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace fcgimux::test;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

const std::string source_dir = FCGIMUX_SOURCE_DIR;

json render(const std::string& overlay, const temp_dir& dir) {
  const child_result k = run_child({"kubectl", "kustomize", source_dir + "/deploy/kubernetes/" + overlay}, 60s);
  REQUIRE(k.exit_code == 0);
  write_file(dir.file("rendered.yaml"), k.out);
  const child_result j = run_child(
      {"python3", "-c",
       "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"},
      30s, dir.file("rendered.yaml"));
  REQUIRE(j.exit_code == 0);
  return json::parse(j.out);
}

const json& find_kind(const json& objects, const std::string& kind, const std::string& name = "") {
  for (const json& o : objects)
    if (o["kind"] == kind && (name.empty() || o["metadata"]["name"] == name)) return o;
  FAIL("no " << kind << " in the rendered overlay");
  throw;
}

json yaml_to_json(const std::string& yaml, const temp_dir& dir) {
  write_file(dir.file("nested.yaml"), yaml);
  const child_result j = run_child({"python3", "-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"},
                                   30s, dir.file("nested.yaml"));
  REQUIRE(j.exit_code == 0);
  return json::parse(j.out);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// A Kubernetes quantity as the HPA's averageValue writes it ("700m", "0.7").
double quantity(const std::string& q) {
  if (!q.empty() && q.back() == 'm') return std::stod(q.substr(0, q.size() - 1)) / 1000.0;
  return std::stod(q);
}

class prometheus_server {
 public:
  explicit prometheus_server(const temp_dir& dir) : port_(free_tcp_port()) {
    write_file(dir.file("targets.json"), "[]");
    // The labels a PodMonitor would give each target: its namespace and pod.
    write_file(dir.file("prometheus.yml"), fmt::format("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                                       "scrape_configs:\n  - job_name: fcgimux\n"
                                                       "    file_sd_configs:\n      - files: ['{}']\n"
                                                       "        refresh_interval: 1s\n",
                                                       dir.file("targets.json")));
    spawn_options s;
    s.argv = {"/usr/bin/prometheus", "--config.file=" + dir.file("prometheus.yml"),
              "--storage.tsdb.path=" + dir.file("tsdb"), fmt::format("--web.listen-address=127.0.0.1:{}", port_),
              "--log.level=warn"};
    s.stderr_path = dir.file("prometheus.log");
    process_ = child_process(s);
    targets_ = dir.file("targets.json");
    const auto deadline = steady::now() + 60s;
    while (http_request(port_, "GET", "/-/ready", {}, 2s).status != 200) {
      if (!process_.running() || steady::now() > deadline) FAIL("prometheus did not start: " << process_.stderr_text());
      std::this_thread::sleep_for(200ms);
    }
  }
  ~prometheus_server() { process_.stop(); }

  /// The scrape targets: each "127.0.0.1:PORT" labelled as the pod it stands for.
  void set_targets(const std::map<std::string, std::uint16_t>& pods) {
    json t = json::array();
    for (const auto& [pod, port] : pods)
      t.push_back({{"targets", {fmt::format("127.0.0.1:{}", port)}}, {"labels", {{"namespace", "default"}, {"pod", pod}}}});
    const std::string tmp = targets_ + ".tmp";
    write_file(tmp, t.dump());
    std::rename(tmp.c_str(), targets_.c_str());  // file_sd reads whole files only
  }

  /// The instant vector `query` answers: (labels, value) for each element.
  std::vector<std::pair<json, double>> query(const std::string& q) {
    const http_response r = http_request(port_, "GET", "/api/v1/query?query=" + url_encode(q), {}, 5s);
    std::vector<std::pair<json, double>> out;
    if (!r.ok || r.status != 200) return out;
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j["status"] != "success") return out;
    for (const json& e : j["data"]["result"]) out.emplace_back(e["metric"], std::stod(e["value"][1].get<std::string>()));
    return out;
  }

 private:
  std::uint16_t port_;
  std::string targets_;
  child_process process_;
};

// A pod: one fcgimux with its demo workers, its pool named as the HPA's selector expects.
struct pod {
  std::string name;
  std::unique_ptr<temp_dir> dir;
  std::unique_ptr<fcgimux_instance> mux;
  std::uint16_t port = 0, stats_port = 0;
};

pod start_pod(int n, const std::string& pool) {
  pod p{fmt::format("fcgimux-{}", n), std::make_unique<temp_dir>("fcgimux-k8s-pod"), nullptr, free_tcp_port(), 0};
  const json cfg = {{"stats", "127.0.0.1:0"},
                    {"shutdown-delay", 1},
                    {"pools",
                     {{{"name", pool},
                       {"listen", {fmt::format("127.0.0.1:{}", p.port)}},
                       {"command", {demo_bin}},
                       {"workers", 1},
                       {"max-workers", 4},
                       {"idle-timeout", 5}}}}};
  write_file(p.dir->file("pools.json"), cfg.dump());
  fcgimux_options o;
  o.args = {"-c", p.dir->file("pools.json")};
  o.listen_tcp = false;
  p.mux = std::make_unique<fcgimux_instance>(o);
  p.stats_port = p.mux->wait_for_port("stats on 127.0.0.1:", 20s);
  REQUIRE(p.stats_port != 0);
  const auto deadline = steady::now() + 20s;
  while (http_request(p.stats_port, "GET", "/healthz", {}, 2s).status != 200) {
    REQUIRE(steady::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
  return p;
}

}  // namespace

TEST_CASE("the HPA rule on fcgimux's saturation scales out under load and back after it, no request failing",
          "[kubernetes][scaling][integration]") {
  temp_dir dir("fcgimux-k8s-scaling");
  const json hpa_objects = render("overlays/hpa", dir);
  const json& hpa = find_kind(hpa_objects, "HorizontalPodAutoscaler");
  const json adapter = yaml_to_json(find_kind(hpa_objects, "ConfigMap", "prometheus-adapter-fcgimux")["data"].value("config.yaml", ""), dir);
  const json keda_objects = render("overlays/keda", dir);
  const json& scaled = find_kind(keda_objects, "ScaledObject");

  // What the adapter asks Prometheus for one pod's metric; the HPA's selector gives the matchers.
  const json& metric = hpa["spec"]["metrics"][0]["pods"];
  std::string matchers;
  for (const auto& [k, v] : metric["metric"]["selector"]["matchLabels"].items())
    matchers += fmt::format("{}{}=\"{}\"", matchers.empty() ? "" : ",", k, v.get<std::string>());
  const std::string adapter_query =
      replace_all(replace_all(adapter["rules"][0]["metricsQuery"], "<<.LabelMatchers>>", matchers), "<<.GroupBy>>",
                  "pod");
  const std::string pool = metric["metric"]["selector"]["matchLabels"].value("pool", "www");
  const double target = quantity(metric["target"]["averageValue"]);
  const std::string keda_query = scaled["spec"]["triggers"][0]["metadata"]["query"];
  const double keda_threshold = std::stod(scaled["spec"]["triggers"][0]["metadata"]["threshold"].get<std::string>());
  const std::size_t min_replicas = hpa["spec"]["minReplicas"];
  const std::size_t max_replicas = std::min(hpa["spec"]["maxReplicas"].get<std::size_t>(), std::size_t{6});
  INFO("adapter query: " << adapter_query << "\nKEDA query: " << keda_query);
  REQUIRE(target > 0);

  prometheus_server prom(dir);
  std::vector<pod> pods;
  int next_pod = 0;
  for (int i = 0; i < 3; ++i) pods.push_back(start_pod(next_pod++, pool));
  auto ports = [&] {
    std::vector<std::uint16_t> v;
    for (const pod& p : pods) v.push_back(p.port);
    return v;
  };
  auto scrape_targets = [&] {
    std::map<std::string, std::uint16_t> t;
    for (const pod& p : pods) t[p.name] = p.stats_port;
    prom.set_targets(t);
  };
  nginx_front front(ports());
  scrape_targets();

  // The load: `clients` concurrent users, each a request of 50 ms at a time; 16 of them are more
  // than the three instances' 12 workers.
  std::atomic<int> clients{0};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> ok{0}, failed{0};
  std::mutex m;
  std::string first_failure;
  std::vector<std::thread> users;
  for (int u = 0; u < 16; ++u)
    users.emplace_back([&, u] {
      while (!stop) {
        if (u >= clients) {
          std::this_thread::sleep_for(20ms);
          continue;
        }
        const http_response r = http_request(front.port(), "GET", "/?sleep_ms=50", {}, 20s);
        if (r.ok && r.status == 200) {
          ++ok;
        } else if (failed++ == 0) {
          std::lock_guard lock(m);
          first_failure = r.ok ? fmt::format("status {}", r.status) : r.error;
        }
      }
    });

  const auto sync = 3s;
  const double stabilization_s = 15;
  std::deque<std::pair<double, std::size_t>> recommendations;  // (time, desired) for scale-down
  std::size_t peak = pods.size(), peak_during_load = pods.size();
  std::string trace = "   t  load  metric  desired(HPA)  desired(KEDA)  instances  failed\n";
  const auto start = steady::now();
  clients = 16;
  const double load_from = 0, load_until = 45, end_at = 105;
  // The HPA has been running with the Deployment at three: its window starts with that.
  recommendations.emplace_back(0.0, pods.size());
  for (;;) {
    std::this_thread::sleep_for(sync);
    const double t = std::chrono::duration<double>(steady::now() - start).count();
    clients = t >= load_from && t < load_until ? 16 : 0;
    // The HPA: each current pod's value from the adapter, their mean against the target.
    const auto per_pod = prom.query(adapter_query);
    double sum = 0;
    std::size_t seen = 0;
    for (const auto& [labels, v] : per_pod)
      for (const pod& p : pods)
        if (labels.value("pod", "") == p.name) sum += v, ++seen;
    const std::size_t current = pods.size();
    std::size_t desired = current;
    const double mean = seen ? sum / static_cast<double>(seen) : 0;
    if (seen == current && std::abs(mean / target - 1) > 0.1)
      desired = static_cast<std::size_t>(std::ceil(static_cast<double>(current) * mean / target));
    desired = std::clamp(desired, min_replicas, max_replicas);
    // Scale-down stabilization: the highest recommendation of the window; scale-up at once.
    recommendations.emplace_back(t, desired);
    while (!recommendations.empty() && recommendations.front().first < t - stabilization_s) recommendations.pop_front();
    std::size_t stabilized = desired;
    if (desired < current)
      for (const auto& [at, d] : recommendations) stabilized = std::max(stabilized, d);
    // KEDA's answer: the sum over the threshold, for the trace and to agree with the HPA's.
    const auto keda = prom.query(keda_query);
    const double keda_value = keda.empty() ? 0 : keda[0].second;
    const auto keda_desired = static_cast<std::size_t>(std::ceil(keda_value / keda_threshold));
    trace += fmt::format("{:4.0f}  {:4}  {:6.3f}  {:12}  {:13}  {:9}  {:6}\n", t, clients.load(), mean, stabilized,
                         keda_desired, current, failed.load());
    if (t >= end_at) break;

    // The Deployment controller and the endpoints controller.
    while (pods.size() < stabilized) {
      pods.push_back(start_pod(next_pod++, pool));
      REQUIRE(front.set_members(ports()));
    }
    while (pods.size() > stabilized) {
      pod leaving = std::move(pods.back());
      pods.pop_back();
      REQUIRE(front.set_members(ports()));
      leaving.mux->process().send_signal(SIGTERM);
      REQUIRE(leaving.mux->process().wait_exit(30s));
    }
    scrape_targets();
    peak = std::max(peak, pods.size());
    if (t < load_until + sync.count()) peak_during_load = std::max(peak_during_load, pods.size());
  }
  stop = true;
  for (auto& u : users) u.join();
  WARN(trace << "requests answered " << ok.load() << ", failed " << failed.load());
  INFO("first failure: " << first_failure);
  CHECK(ok > 1000);
  CHECK(failed == 0);
  CHECK(peak_during_load > 3);
  CHECK(pods.size() < peak_during_load);
  CHECK(pods.size() == min_replicas);
}
