#!/usr/bin/env python3
"""Run seeded random workload scenarios over every shipped topology and testbed and report any
run that crashes, hangs, fails a mechanism or gives different bytes twice.

Where scripts/fuzz.sh feeds malformed files to the loaders, this feeds well-formed workloads to
the simulator: one to three buffers (device or system memory, managed or not, touched or not, 4
KiB or 2 MiB pages), one to seven phases by the CPU, a buffer's GPU or any NIC (ranges from an
offset, random and strided patterns, concurrency, phases at once, revocations mid-transfer),
every mechanism, every driver profile, random workload costs, and sometimes a GPU memory so
small that the driver must evict. A run may end with a mechanism "not_supported" (a platform
that refuses peer traffic) and a generated scenario may be refused as bad input (exit 2, the
generator's own mistake: counted, not reported); anything else is a finding.

Usage: scripts/fuzz-workloads.py [--binary build/pciesim] [--seed 1] [--count 200]
Exits 1 if it finds anything; the scenario of each finding is kept in --keep (default
fuzz-findings/) and the command that runs it again is printed with it.
"""
import argparse, glob, json, os, random, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOPOLOGIES = sorted(glob.glob(os.path.join(ROOT, "topologies", "*.json")) +
                    glob.glob(os.path.join(ROOT, "validation", "*", "testbeds", "*.json")))
SIZES = {"64 KiB": 64 << 10, "256 KiB": 256 << 10, "1 MiB": 1 << 20, "2 MiB": 2 << 20,
         "3 MiB": 3 << 20, "4 MiB": 4 << 20}
MECHANISMS = ["p2p_dma_api", "hmm_migrate", "hmm_p2p", "dmabuf_p2p", "bounce", "vendor_peer"]


def component_ids(topology, kind):
    return [c["id"] for c in topology["components"] if c["type"] == kind]


def random_buffer(r, index, gpus):
    on_device = r.random() < 0.5
    size = r.choice(sorted(SIZES))
    buffer = {"id": f"b{index}", "gpu": r.choice(gpus), "size": size,
              "placement": "device" if on_device else "system"}
    if r.random() < 0.2:
        buffer["page_size"] = "2 MiB"
        buffer["size"] = r.choice(["2 MiB", "4 MiB"])
    if not on_device:
        buffer["managed"] = r.random() < 0.7
        if buffer["managed"] and r.random() < 0.3:
            buffer["populated"] = False
    return buffer


def random_phase(r, index, buffer, nics):
    if index > 0 and r.random() < 0.12:
        phase = {"id": f"p{index}", "actor": buffer["gpu"], "op": "revoke",
                 "buffer": buffer["id"], "evict": r.random() < 0.5}
        if r.random() < 0.5:
            phase["with_previous"] = True
            phase["at"] = f"{r.randint(0, 80)} us"
        return phase
    phase = {"id": f"p{index}", "actor": r.choice(nics + ["cpu", buffer["gpu"]]),
             "op": r.choice(["read", "write"]), "buffer": buffer["id"]}
    buffer_bytes = SIZES[buffer["size"]]
    page = (2 << 20) if buffer.get("page_size") == "2 MiB" else 4096
    if r.random() < 0.5:
        access = min(r.choice([512, 4096, 8192, 65536, 262144, 1 << 20]), buffer_bytes)
        phase["access_size"] = f"{access} B"
        if r.random() < 0.3:
            phase["pattern"] = "random"
            phase["seed"] = r.randint(0, 100)
        elif r.random() < 0.3:
            phase["pattern"] = "strided"
            phase["stride"] = f"{access * r.choice([1, 2, 4])} B"
        if phase["actor"] != "cpu" and r.random() < 0.4:
            phase["concurrency"] = r.choice([1, 2, 4, 16, 64])
    elif r.random() < 0.3:
        offset = r.choice([0, page, 2 * page])
        if offset < buffer_bytes:
            phase["offset"] = f"{offset} B"
            size = max(page, (buffer_bytes - offset) // r.choice([1, 2, 4])) // page * page
            phase["size"] = f"{size} B"
    if r.random() < 0.2:
        phase["once"] = True
    if index > 0 and r.random() < 0.3:
        phase["with_previous"] = True
    return phase


def random_scenario(seed):
    r = random.Random(seed)
    topology_file = r.choice(TOPOLOGIES)
    with open(topology_file) as f:
        topology = json.load(f)
    gpus, nics = component_ids(topology, "gpu"), component_ids(topology, "rdma_nic")
    if not gpus:
        return None, []
    buffers = [random_buffer(r, b, gpus) for b in range(r.randint(1, 3))]
    phases = [random_phase(r, p, r.choice(buffers), nics) for p in range(r.randint(1, 7))]
    mechanisms = MECHANISMS[:]
    r.shuffle(mechanisms)
    workload = {"mechanisms": mechanisms[:r.randint(1, len(mechanisms))], "buffers": buffers,
                "phases": phases, "iterations": r.randint(1, 3),
                "nic_mr": r.choice(["odp", "odp_prefetch", "pinned"]),
                "dmabuf_importer": r.choice(["pinned", "dynamic"])}
    if r.random() < 0.4:
        workload["driver"] = r.choice(["nvidia-uvm", "nouveau", "amdgpu-svm"])
    if r.random() < 0.3:
        workload["chunk"] = r.choice(["64 KiB", "256 KiB", "1 MiB"])
        workload["chunks_in_flight"] = r.randint(1, 4)
    if r.random() < 0.3:
        choices = {"gpu_fault_batch_pages": [1, 7, 256], "eviction_unit": ["0 B", "64 KiB", "2 MiB"],
                   "gpu_fault_policy": ["migrate", "map_remote"],
                   "gpu_fault_granularity": ["4 KiB", "64 KiB", "2 MiB"],
                   "eviction_path": ["migrate_vma", "driver"], "iommu_flush": ["lazy", "strict"],
                   "migrate_to_ram_pages": [1, 16, 512], "odp_fault_max": ["4 KiB", "4 MiB"],
                   "thrashing_threshold": [1, 3]}
        workload["costs"] = {k: r.choice(v) for k, v in choices.items() if r.random() < 0.4}
    sets = []
    if r.random() < 0.4:  # a GPU memory the buffers may overflow: eviction
        for i, c in enumerate(topology["components"]):
            if c["type"] == "gpu" and r.random() < 0.7:
                size = r.choice(["1 MiB", "2 MiB", "4 MiB", "6 MiB"])
                sets += ["--set", f"topology:/components/{i}/params/memory_size={size}"]
    return {"name": f"fuzz-workload-{seed}", "topology": topology_file, "workload": workload}, sets


def run(binary, path, sets, jobs):
    command = [binary, "run", path, "--json", "--quiet", "-j", str(jobs)] + sets
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "pciesim"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--keep", default="fuzz-findings")
    args = parser.parse_args()
    findings = refused = ran = 0
    with tempfile.TemporaryDirectory(prefix="fuzz-workloads-") as scratch:
        for seed in range(args.seed, args.seed + args.count):
            scenario, sets = random_scenario(seed)
            if scenario is None:
                continue
            path = os.path.join(scratch, f"fuzz-workload-{seed}.json")
            with open(path, "w") as f:
                json.dump(scenario, f)
            problem = None
            try:
                first = run(args.binary, path, sets, 2)
                if first.returncode == 2:
                    refused += 1
                    continue
                ran += 1
                if first.returncode != 0:
                    problem = f"exit {first.returncode}: {first.stderr.strip()[-300:]}"
                else:
                    odd = [f"{m['id']} {m['status']}: {m['reason']}"
                           for m in json.loads(first.stdout)["mechanisms"]
                           if m["status"] not in ("ok", "not_supported")]
                    if odd:
                        problem = "; ".join(odd)
                    elif seed % 4 == 0 and run(args.binary, path, sets, 1).stdout != first.stdout:
                        problem = "different results with -j 1"
            except subprocess.TimeoutExpired:
                problem = "no end within 300 s"
            if problem:
                findings += 1
                os.makedirs(args.keep, exist_ok=True)
                kept = os.path.join(args.keep, f"fuzz-workload-{seed}.json")
                with open(kept, "w") as f:
                    json.dump(scenario, f, indent=2)
                again = " ".join([args.binary, "run", kept] + [f"'{a}'" for a in sets])
                print(f"seed {seed}: {problem}\n  {again}", flush=True)
    print(f"{ran} ran, {refused} refused as bad input, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
