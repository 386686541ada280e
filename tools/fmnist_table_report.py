#!/usr/bin/env python3
"""Prints the Fashion-MNIST table of docs/results.md (Markdown) from tools/fmnist_table's runs.

Usage: tools/fmnist_table_report.py RUNS_DIR/runs.txt

Each line of runs.txt is "CONFIG SEED RUN_DIR". Per configuration: the trained
(fake-quantized) top-1 on the whole test set as mean and sample standard
deviation over the seeds; the integer path's top-1 on the test images palsim
validate ran (the whole test set unless noted) likewise, and how many seeds
validated (identical top-1 to the float64 reference on those images, logits
within tolerance, one image bit-exact through the SystemC model) and on how
many of them the float32 training path's own top-1 differs; MACs and BitOps (b_a x b_w x MACs, the method's counting rule)
and Bit Fusion cycles and energy from palsim evaluate (the same for every seed:
timing and energy do not depend on the weights' values).
"""
import json
import os
import statistics
import sys


def mean_std(values):
    if not values:
        return "-"
    m = statistics.mean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * m:.2f} ± {100 * s:.2f}"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tools/fmnist_table_report.py RUNS_DIR/runs.txt")
    configs = {}
    order = []
    with open(sys.argv[1]) as f:
        for line in f:
            cfg, seed, run = line.split()
            name = os.path.basename(cfg)[:-len(".yaml")]
            if name not in configs:
                configs[name] = []
                order.append(name)
            configs[name].append(run)

    print("| configuration | top-1 % (10000 test images) | top-1 % integer path | validated "
          "| float32 path top-1 differs | MACs | BitOps (M) | Bit Fusion cycles | Bit Fusion energy (uJ) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in order:
        trained, integer, hw = [], [], None
        validated = 0
        images, float32_differs = set(), []
        for run in configs[name]:
            metrics_path = os.path.join(run, "metrics.json")
            if not os.path.exists(metrics_path):
                continue
            with open(metrics_path) as f:
                m = json.load(f)
            if not m.get("epochs_done") == m.get("epochs_total"):
                continue
            trained.append(m["final_test_accuracy_percent"] / 100)
            va_path = os.path.join(run, "validate.json")
            if os.path.exists(va_path):
                with open(va_path) as f:
                    va = json.load(f)
                integer.append(va["accuracy"])
                images.add(va["images"])
                if "float32_top1_differences" in va:
                    float32_differs.append(str(va["float32_top1_differences"]))
                validated += bool(va["bit_exact_integer"] and va["bit_exact_sim"] and va["top1_differences"] == 0)
            ev_path = os.path.join(run, "evaluate.json")
            if os.path.exists(ev_path):
                with open(ev_path) as f:
                    ev = json.load(f)
                point = (ev["macs"], ev["bitops_a_bits"] * ev["bitops_w_bits"] * ev["macs"], ev["cycles"],
                         ev["energy_pj"])
                if hw is not None and hw != point:
                    sys.exit(f"{run}: hardware figures differ between seeds of {name}: {hw} vs {point}")
                hw = point
        on = "" if not images or images == {10000} else " (first " + "/".join(map(str, sorted(images))) + ")"
        cells = [name, f"{mean_std(trained)} (n={len(trained)})", mean_std(integer) + on,
                 f"{validated}/{len(integer)}" if integer else "-",
                 " / ".join(float32_differs) if float32_differs else "-"]
        if hw:
            cells += [f"{hw[0]:,}", f"{hw[1] / 1e6:.1f}", f"{hw[2]:,}", f"{hw[3] / 1e6:.2f}"]
        else:
            cells += ["-", "-", "-", "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
