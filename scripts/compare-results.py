#!/usr/bin/env python3
"""Run the same scenarios with two pciesim binaries and report any output that differs.

Used to show that a refactoring changes no result: every shipped scenario (mechanism
comparisons included), the benchmark scenarios, a seeded random set of transfers over the
shipped topologies and one of workloads over the shipped topologies and testbeds (those of
scripts/fuzz-workloads.py). Usage:
scripts/compare-results.py OLD_BINARY NEW_BINARY [--random N] [--random-workloads N]
                           [--ignore-key KEY ...]
--ignore-key drops every object member named KEY from both sides' JSON outputs before they
are compared: a change that adds a parameter or a statistic (echoed in results.json) and
should change nothing else.
"""
import argparse, filecmp, glob, importlib.util, json, os, random, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOPOLOGIES = {  # topology -> (initiators, targets)
    "topologies/gpu-nic-shared-switch.json": (["nic0", "gpu0"], ["gpu0", "mem0"]),
    "topologies/gpu-nic-shared-switch-iommu.json": (["nic0", "gpu0"], ["gpu0", "mem0"]),
    "topologies/gpu-nic-shared-switch-iommu-ats.json": (["nic0", "gpu0"], ["gpu0", "mem0"]),
    "topologies/gpu-nic-root-ports-amd.json": (["nic0", "gpu0"], ["gpu0", "mem0"]),
    "topologies/gpu-nic-two-sockets.json": (["nic0", "gpu0"], ["gpu0", "mem0", "mem1"]),
    "topologies/default-shared-switch.json": (["dev0", "dev1", "dev2"], ["mem0", "dev0", "dev1"]),
    "topologies/switch-two-dma.json": (["dma0", "dma1"], ["mem0", "dma1"]),
    "topologies/nvme-gpu-root-ports.json": (["nvme0", "gpu0"], ["gpu0", "mem0"]),
    "topologies/hgx-zen4.json": (["nic0", "gpu0", "gpu2", "gpu4"],
                                 ["gpu0", "gpu2", "gpu4", "mem0", "mem1"]),
    "validation/hardware/testbeds/bdw-e5-2650v4-p40-3xp4600.json": (
        ["nvme0", "nvme1", "nvme2", "gpu0"], ["gpu0", "mem0"]),
    "validation/hardware/testbeds/hsw-mi25-p2p.json": (["gpu0", "gpu1"], ["gpu0", "gpu1", "mem0"]),
}


def random_scenario(rng, index, directory):
    topology = rng.choice(sorted(TOPOLOGIES))
    initiators, targets = TOPOLOGIES[topology]
    transfers = []
    for t in range(rng.randint(1, 3)):
        initiator = rng.choice(initiators)
        target = rng.choice([x for x in targets if x != initiator])
        size = f"{rng.randint(100, 1 << 20)} B"
        transfers.append({"id": f"t{t}", "initiator": initiator, "target": target,
                          "direction": rng.choice(["read", "write"]), "size": size,
                          "count": rng.randint(1, 8), "concurrency": rng.randint(1, 4)})
        # A GPU peer that the kernel's p2pdma refuses still moves data, mapped by its driver.
        if target.startswith("gpu") and rng.random() < 0.5:
            transfers[-1]["mechanism"] = "vendor_peer"
    scenario = {"name": f"random-{index}", "topology": os.path.join(ROOT, topology),
                "transfers": transfers}
    path = os.path.join(directory, f"random-{index}.json")
    with open(path, "w") as f:
        json.dump(scenario, f)
    return path


def random_workloads(count, directory):
    """(path, --set arguments) of `count` random workload scenarios, from seed 1."""
    spec = importlib.util.spec_from_file_location(
        "fuzz_workloads", os.path.join(ROOT, "scripts", "fuzz-workloads.py"))
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    out, seed = [], 0
    while len(out) < count:
        seed += 1
        scenario, sets = fuzz.random_scenario(seed)
        if scenario is None:
            continue
        path = os.path.join(directory, f"random-workload-{seed}.json")
        with open(path, "w") as f:
            json.dump(scenario, f)
        out.append((path, sets))
    return out


def without_keys(value, keys):
    if isinstance(value, dict):
        return {k: without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without_keys(v, keys) for v in value]
    return value


def same_output(a, b, ignored_keys):
    if not (os.path.isfile(a) and os.path.isfile(b)):
        return False
    if filecmp.cmp(a, b, shallow=False):
        return True
    if not ignored_keys or not a.endswith(".json"):
        return False
    with open(a) as fa, open(b) as fb:
        return without_keys(json.load(fa), ignored_keys) == without_keys(json.load(fb),
                                                                       ignored_keys)


def run(binary, scenario, out, sets=()):
    result = subprocess.run([binary, "run", "--quiet", "--out", out, scenario, *sets],
                            capture_output=True, text=True, timeout=900)
    # The wall-clock time is the one part of a run's output that may differ.
    return result.returncode, re.sub(r"in [0-9.]+ s of wall-clock", "in - s of wall-clock",
                                     result.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--random", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--random-workloads", type=int, default=20)
    parser.add_argument("--ignore-key", action="append", default=[])
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="compare-results-")
    scenarios = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.json")))
    scenarios += [os.path.join(ROOT, "bench", n) for n in
                  ("hmm-pingpong-smoke.json", "profile-dma-write-16MiB.json",
                   "profile-dma-read-16MiB.json", "profile-nic-read-16MiB.json")]
    rng = random.Random(args.seed)
    scenarios += [random_scenario(rng, i, scratch) for i in range(args.random)]
    scenarios = [(path, [], False) for path in scenarios]
    # Random workloads include some that both binaries refuse as bad input (a GPU memory too
    # small for its buffers): twice as many are made, and the first that run are compared.
    workloads = random_workloads(2 * args.random_workloads, scratch)
    scenarios += [(path, sets, True) for path, sets in workloads]
    differing = compared_workloads = 0
    compared = []
    for scenario, sets, is_workload in scenarios:
        if is_workload and compared_workloads == args.random_workloads:
            break
        name = os.path.splitext(os.path.basename(scenario))[0]
        outputs = []
        for label, binary in (("old", args.old), ("new", args.new)):
            out = os.path.join(scratch, label, name)
            outputs.append((out, run(binary, scenario, out, sets)))
        (old_out, old_rc), (new_out, new_rc) = outputs
        if is_workload and old_rc == new_rc and old_rc[0] == 2:
            continue  # refused by both: not compared
        compared_workloads += bool(is_workload)
        compared.append(name)
        problems = []
        if old_rc != new_rc:
            problems.append(f"exit/stderr {old_rc} vs {new_rc}")
        # Two refusals of the same input are the same, and prove nothing about the models:
        # every scenario compared must run (exit 1 is a failed expectation, still a run).
        if old_rc[0] not in (0, 1):
            problems.append(f"did not run (exit {old_rc[0]}: {old_rc[1].strip()[:200]})")
        for file in sorted(set(os.listdir(old_out) if os.path.isdir(old_out) else []) |
                           set(os.listdir(new_out) if os.path.isdir(new_out) else [])):
            if file in ("run-info.json", ".lock"):  # wall-clock time, host, build id; a PID
                continue
            a, b = os.path.join(old_out, file), os.path.join(new_out, file)
            if not same_output(a, b, set(args.ignore_key)):
                problems.append(file)
        status = "DIFFERS: " + ", ".join(problems) if problems else "identical"
        differing += bool(problems)
        print(f"{name:40s} {status}")
    if compared_workloads < args.random_workloads:
        print(f"only {compared_workloads} random workloads ran of the {args.random_workloads} asked")
        differing += 1
    print(f"{len(compared) - differing} of {len(compared)} identical (outputs in {scratch})")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
