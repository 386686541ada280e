#!/usr/bin/python3
"""Speedup and energy efficiency of PalQuant (B = 2 bits, G groups) over the
(B*G)-bit baseline run bit-decomposed, against G: ResNet-18 on Bit Fusion
(LSQ baselines) and BPVeC (EWGS baselines), one inference each, in fast mode.
The notebook way: palsim in this process, the runs in parallel threads.

    PYTHONPATH=build/python /usr/bin/python3 examples/speedup_vs_g.py [OUT.png]

Writes OUT.png (default speedup_vs_g.png) and prints the figures it draws.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import matplotlib

matplotlib.use("Agg")  # no display: write the file
import matplotlib.pyplot as plt  # noqa: E402

import palsim  # noqa: E402

B = 2
GROUPS = [1, 2, 3, 4]
ACCELERATORS = {"bitfusion": "lsq", "bpvec": "ewgs"}  # accelerator -> its baseline method


def form(hw, g, kind):
    """The baseline at B*G bits, or PalQuant B, G."""
    if kind == "baseline":
        return dict(method=ACCELERATORS[hw], abits=B * g, wbits=B * g)
    return dict(method="palquant", B=B, G=g)


def run(point):
    r = palsim.simulate("resnet18", hw=point[0], **form(*point))
    return r["cycles"], r["energy_pj"]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "speedup_vs_g.png"
    points = [(hw, g, kind) for hw in ACCELERATORS for g in GROUPS
              for kind in ("baseline", "palquant")]
    # palsim releases the GIL: the threads run on every core.
    with ThreadPoolExecutor() as pool:
        figures = dict(zip(points, pool.map(run, points)))

    fig, (speed_ax, energy_ax) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    print(f"{'accelerator':<11} {'G':>2} {'speedup':>8} {'energy eff.':>11}")
    for hw, baseline in ACCELERATORS.items():
        speedup, efficiency = [], []
        for g in GROUPS:
            base_cycles, base_energy = figures[(hw, g, "baseline")]
            pal_cycles, pal_energy = figures[(hw, g, "palquant")]
            speedup.append(base_cycles / pal_cycles)
            efficiency.append(base_energy / pal_energy)
            print(f"{hw:<11} {g:>2} {speedup[-1]:>7.2f}x {efficiency[-1]:>10.2f}x")
        label = f"{hw} (vs {baseline.upper()} at B*G bits)"
        speed_ax.plot(GROUPS, speedup, marker="o", label=label)
        energy_ax.plot(GROUPS, efficiency, marker="o", label=label)
    for ax, what in ((speed_ax, "speedup"), (energy_ax, "energy efficiency")):
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_xlabel("G (channel groups of PalQuant, B = 2)")
        ax.set_ylabel(f"{what} over the B*G-bit baseline")
        ax.set_xticks(GROUPS)
        ax.legend()
    fig.suptitle("ResNet-18, one inference (palsim fast mode)")
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
