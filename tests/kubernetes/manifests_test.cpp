// SPDX-License-Identifier: ISC
// deploy/kubernetes/ without a cluster: each overlay renders with kubectl kustomize, every object
// it holds validates against the Kubernetes, KEDA and Prometheus Operator schemas (pinned npm
// packages, scripts/k8s-models.sh), and the pools JSON of its ConfigMap passes fcgimux -t.

#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>

using namespace std::chrono_literals;
using namespace fcgimux::test;
using nlohmann::json;

namespace {

const std::string source_dir = FCGIMUX_SOURCE_DIR;

// The rendered overlay as a JSON array of objects (kubectl prints YAML; python3-yaml reads it).
json render(const std::string& overlay, const temp_dir& dir) {
  const child_result k = run_child({"kubectl", "kustomize", source_dir + "/deploy/kubernetes/" + overlay}, 60s);
  INFO(k.err);
  REQUIRE(k.exit_code == 0);
  write_file(dir.file("rendered.yaml"), k.out);
  const child_result j = run_child(
      {"python3", "-c",
       "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"},
      30s, dir.file("rendered.yaml"));
  INFO(j.err);
  REQUIRE(j.exit_code == 0);
  return json::parse(j.out);
}

std::string node_modules() {
  const child_result r = run_child({source_dir + "/scripts/k8s-models.sh"}, 300s);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string dir = r.out;
  while (!dir.empty() && dir.back() == '\n') dir.pop_back();
  return dir;
}

child_result validate(const json& objects, const temp_dir& dir) {
  write_file(dir.file("objects.json"), objects.dump());
  const std::string script = source_dir + "/tests/kubernetes/validate_manifests.mjs";
  return run_child({"env", "K8S_NODE_MODULES=" + node_modules(), "node", script}, 120s, dir.file("objects.json"));
}

const json* find_kind(const json& objects, const std::string& kind, const std::string& name_prefix) {
  for (const json& o : objects)
    if (o["kind"] == kind && o["metadata"]["name"].get<std::string>().rfind(name_prefix, 0) == 0) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("the schema check rejects an invalid object", "[kubernetes][manifests]") {
  temp_dir dir("fcgimux-k8s-manifests");
  json objects = render("base", dir);
  json* deployment = nullptr;
  for (json& o : objects)
    if (o["kind"] == "Deployment") deployment = &o;
  REQUIRE(deployment);
  (*deployment)["spec"]["replicas"] = "two";
  const child_result r = validate(objects, dir);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("INVALID apps/v1 Deployment") != std::string::npos);
}

TEST_CASE("every overlay renders and validates against its schemas", "[kubernetes][manifests]") {
  for (const std::string overlay : {"base", "overlays/hpa", "overlays/keda", "overlays/prometheus-operator"}) {
    SECTION(overlay) {
      temp_dir dir("fcgimux-k8s-manifests");
      const json objects = render(overlay, dir);
      const child_result r = validate(objects, dir);
      INFO(r.out << r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out.find("valid   apps/v1 Deployment fcgimux") != std::string::npos);
      if (overlay == "overlays/hpa") {
        CHECK(r.out.find("valid   autoscaling/v2 HorizontalPodAutoscaler") != std::string::npos);
      }
      if (overlay == "overlays/keda") CHECK(r.out.find("valid   keda.sh/v1alpha1 ScaledObject") != std::string::npos);
      if (overlay == "overlays/prometheus-operator")
        CHECK(r.out.find("valid   monitoring.coreos.com/v1 PodMonitor") != std::string::npos);
    }
  }
}

TEST_CASE("the Deployment's pools JSON and its grace period agree with fcgimux", "[kubernetes][manifests]") {
  temp_dir dir("fcgimux-k8s-manifests");
  const json objects = render("base", dir);
  const json* cm = find_kind(objects, "ConfigMap", "fcgimux-pools");
  REQUIRE(cm);
  const std::string pools = (*cm)["data"]["pools.json"];
  write_file(dir.file("pools.json"), pools);
  // In the pod fcgimux is not root; a test run as root names the workers' user, as fcgimux asks.
  std::vector<std::string> check = {fcgimux_bin, "-t", "-c", dir.file("pools.json")};
  for (const std::string& a : root_user_args({})) check.push_back(a);
  const child_result t = run_child(check, 30s);
  INFO(t.out << t.err);
  CHECK(t.exit_code == 0);
  // The kubelet's SIGKILL comes after terminationGracePeriodSeconds: never before the delay, the
  // drain and the workers' stop grace (5 s) are over.
  const json p = json::parse(pools);
  const json* d = find_kind(objects, "Deployment", "fcgimux");
  REQUIRE(d);
  const double grace = (*d)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"];
  CHECK(p["shutdown-delay"].get<double>() > 0);
  CHECK(grace > p["shutdown-delay"].get<double>() + p["shutdown-timeout"].get<double>() + 5);
  // The readiness probe is /healthz on the stats port, which listens beyond loopback.
  const json& c = (*d)["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["readinessProbe"]["httpGet"]["path"] == "/healthz");
  CHECK(p["stats"].get<std::string>().rfind("0.0.0.0:", 0) == 0);
  CHECK(c["securityContext"]["readOnlyRootFilesystem"] == true);
  CHECK(c["securityContext"]["allowPrivilegeEscalation"] == false);
}
