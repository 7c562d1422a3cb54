#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Translates one Deployment of rendered manifests into `podman run` arguments, for
scripts/container-test.sh: the pod's containers run as the kubelet would run them, so the
container test checks the real manifest, not a copy of it.

    k8s-pod-podman.py RENDERED.yaml DEPLOYMENT WORKDIR  > pod.sh   (then: source pod.sh)

It writes each ConfigMap volume's files into WORKDIR/DEPLOYMENT-cm-VOLUME (mounted read-only, as a
configMap volume is) and makes WORKDIR/DEPLOYMENT-empty-VOLUME for each emptyDir, mode 0777 as the
kubelet makes one (no sticky bit), shared by the init containers and the container. It prints
shell assignments (pod_init_N and pod_main: arguments after `podman run`; pod_grace, pod_probe_*,
pod_port_NAME, pod_images, pod_empty: dir/medium/size triples for the caller to mount). Whatever of
the spec it cannot honour (a subPath, valueFrom, privileged, another volume type) is an error, never
silently dropped; resources are left out (podman's cgroup limits here are not the kubelet's).
"""
import os
import shlex
import sys

import yaml


def fail(why):
    sys.exit(f"k8s-pod-podman: {why}")


def run_args(container, pod, volumes, config_maps, workdir, prefix):
    sc = {k: v for k, v in (pod.get("securityContext") or {}).items() if k.startswith("run")}
    sc.update(container.get("securityContext") or {})
    # The kubelet ignores an image's HEALTHCHECK: only the manifest's probes count.
    args = ["--pull=never", "--no-healthcheck"]
    uid, gid = sc.get("runAsUser"), sc.get("runAsGroup")
    if sc.get("runAsNonRoot") and (uid is None or uid == 0):
        fail(f"{container['name']}: runAsNonRoot needs a numeric runAsUser other than 0 here")
    if uid is not None:
        args += ["--user", f"{uid}:{gid}" if gid is not None else str(uid)]
    if sc.get("privileged"):
        fail(f"{container['name']}: privileged is not translated")
    if sc.get("readOnlyRootFilesystem"):
        # podman would otherwise mount tmpfs on /run, /tmp and /var/tmp: the kubelet does not.
        args += ["--read-only", "--read-only-tmpfs=false"]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    caps = sc.get("capabilities") or {}
    for cap in caps.get("drop") or []:
        args += ["--cap-drop", cap]
    for cap in caps.get("add") or []:
        args += ["--cap-add", cap]
    for e in container.get("env") or []:
        if "value" not in e:
            fail(f"{container['name']}: env {e['name']} has no plain value")
        args += ["-e", f"{e['name']}={e['value']}"]
    for m in container.get("volumeMounts") or []:
        if m.get("subPath") or m.get("subPathExpr"):
            fail(f"{container['name']}: subPath mounts are not translated")
        vol = volumes.get(m["name"]) or fail(f"{container['name']}: no volume {m['name']}")
        if "configMap" in vol:
            cm = config_maps.get(vol["configMap"]["name"]) or fail(f"no ConfigMap {vol['configMap']['name']}")
            if vol["configMap"].get("items") or cm.get("binaryData"):
                fail(f"ConfigMap volume {m['name']}: items and binaryData are not translated")
            host = os.path.join(workdir, f"{prefix}-cm-{m['name']}")
            os.makedirs(host, mode=0o755, exist_ok=True)
            for name, text in (cm.get("data") or {}).items():
                path = os.path.join(host, name)
                with open(path, "w") as f:
                    f.write(text)
                os.chmod(path, 0o644)
            os.chmod(host, 0o755)
            # A configMap volume is read-only whatever the mount says.
            args += ["-v", f"{host}:{m['mountPath']}:ro"]
        elif "emptyDir" in vol:
            host = os.path.join(workdir, f"{prefix}-empty-{m['name']}")
            args += ["-v", f"{host}:{m['mountPath']}" + (":ro" if m.get("readOnly") else "")]
        else:
            fail(f"volume {m['name']}: only configMap and emptyDir are translated")
    command, cargs = container.get("command") or [], container.get("args") or []
    if command:
        args += ["--entrypoint", command[0]]
    args.append(container["image"])
    args += command[1:] + cargs
    return args


def main():
    if len(sys.argv) != 4:
        fail("usage: k8s-pod-podman.py RENDERED.yaml DEPLOYMENT WORKDIR")
    rendered, name, workdir = sys.argv[1:]
    with open(rendered) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    deployments = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name]
    if len(deployments) != 1:
        fail(f"no Deployment named {name}")
    pod = deployments[0]["spec"]["template"]["spec"]
    if len(pod["containers"]) != 1:
        fail(f"{name}: one container expected, found {len(pod['containers'])}")
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    out = []

    def assign(var, value):
        if isinstance(value, list):
            out.append(f"{var}=(" + " ".join(shlex.quote(str(v)) for v in value) + ")")
        else:
            out.append(f"{var}={shlex.quote(str(value))}")

    empty = []
    for vname, vol in volumes.items():
        if "emptyDir" in vol:
            host = os.path.join(workdir, f"{name}-empty-{vname}")
            os.makedirs(host, exist_ok=True)
            os.chmod(host, 0o777)  # the kubelet's emptyDir mode: world-writable, not sticky
            ed = vol["emptyDir"] or {}
            empty += [host, ed.get("medium") or "-", ed.get("sizeLimit") or "-"]
    assign("pod_empty", empty)
    inits = pod.get("initContainers") or []
    assign("pod_init_count", len(inits))
    for i, c in enumerate(inits):
        assign(f"pod_init_{i}", run_args(c, pod, volumes, config_maps, workdir, name))
    main_container = pod["containers"][0]
    assign("pod_main", run_args(main_container, pod, volumes, config_maps, workdir, name))
    assign("pod_images", [c["image"] for c in inits + [main_container]])
    # The kubelet's default when the spec names none.
    assign("pod_grace", pod.get("terminationGracePeriodSeconds", 30))
    ports = {p["name"]: p["containerPort"] for p in main_container.get("ports") or [] if p.get("name")}
    for pname, number in ports.items():
        assign(f"pod_port_{pname.replace('-', '_')}", number)
    probe = (main_container.get("readinessProbe") or {}).get("httpGet") or fail(f"{name}: no httpGet readinessProbe")
    assign("pod_probe_path", probe["path"])
    assign("pod_probe_port", ports.get(probe["port"], probe["port"]))
    print("\n".join(out))


if __name__ == "__main__":
    main()
