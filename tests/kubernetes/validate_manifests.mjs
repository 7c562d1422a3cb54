// SPDX-License-Identifier: ISC
// Validates Kubernetes objects (a JSON array on stdin) against the schemas of kubernetes-models,
// @kubernetes-models/keda and @kubernetes-models/prometheus-operator, offline. Prints one line per
// object; exits 1 if any is invalid or of a kind no package knows.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// K8S_NODE_MODULES: the node_modules the packages were installed into (scripts/k8s-models.sh).
const modules = process.env.K8S_NODE_MODULES;
// The file a package exports for `sub` (these packages export ES modules only, by subpath).
function entry(pkg, sub) {
  const dir = `${modules}/${pkg}`;
  const exports = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")).exports;
  let e = exports[`./${sub}`];
  while (e && typeof e === "object") e = e.import ?? e.default;
  if (!e) throw new Error(`${pkg} exports no ${sub}`);
  return pathToFileURL(`${dir}/${e}`).href;
}
const packages = {
  "keda.sh": "@kubernetes-models/keda",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const objects = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const o of objects) {
  const name = `${o.apiVersion} ${o.kind} ${o.metadata?.name}`;
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const pkg = packages[group] ?? "kubernetes-models";
  const path = group ? `${group}/${version}` : version;
  try {
    const mod = await import(entry(pkg, path));
    const Kind = mod[o.kind];
    if (!Kind) throw new Error(`no schema for ${o.kind} in ${path}`);
    new Kind(o).validate();
    console.log(`valid   ${name}`);
  } catch (e) {
    failed++;
    console.log(`INVALID ${name}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
