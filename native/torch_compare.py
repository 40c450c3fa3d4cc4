#!/usr/bin/env python3
"""Side-by-side with PyTorch on the lent GPU machine (run by gpu-run.sh; needs torch and numpy).

  torch_compare.py inputs DIR [N C H W G]     write x/dy/gamma/beta .npy files for CLI and sanitizer runs
  torch_compare.py accuracy JAVA JAR DIR      run our CLI forward/backward on DIR's inputs, compare with torch float64
  torch_compare.py bench OURS_BENCH_TXT       time torch's GroupNorm kernels on the bench suite, print ratios

Timing follows our bench: CUDA events around the kernels only, an L2-sized buffer rewritten before each sample,
warm-up, median. PyTorch is called through aten.native_group_norm / native_group_norm_backward, the kernels
F.group_norm and its autograd run, without the autograd bookkeeping.
"""
import re
import statistics
import subprocess
import sys

import numpy as np
import torch

SUITE = [(1, 256, (128, 128), 32), (2, 512, (64, 64), 32), (32, 256, (56, 56), 32), (4, 1280, (8, 8), 32),
         (8, 128, (8, 64, 64), 32)]
SMALL = (2, 24, (7, 9), 6)


def make_inputs(d, shape=SMALL, mean=0.0):
    n, c, sp, g = shape
    rng = np.random.default_rng(7)
    x = (mean + rng.standard_normal((n, c) + sp)).astype(np.float32)
    np.save(f"{d}/x.npy", x)
    np.save(f"{d}/dy.npy", rng.standard_normal((n, c) + sp).astype(np.float32))
    np.save(f"{d}/gamma.npy", rng.uniform(0.5, 1.5, c).astype(np.float32))
    np.save(f"{d}/beta.npy", rng.uniform(-0.5, 0.5, c).astype(np.float32))
    return g


def accuracy(java, jar, d):
    rows = []
    for label, shape, mean in (("[2,24,7x9] G=6", SMALL, 0.0), ("[2,32,8x8] G=8 mean 1e4", (2, 32, (8, 8), 8), 1e4),
                               ("[1,256,32x32] G=32", (1, 256, (32, 32), 32), 0.0)):
        g = make_inputs(d, shape, mean)
        common = ["--x", f"{d}/x.npy", "--groups", str(g), "--gamma", f"{d}/gamma.npy", "--device", "cuda"]
        subprocess.run([java, "-jar", jar, "forward"] + common + ["--beta", f"{d}/beta.npy", "--out", f"{d}/f"],
                       check=True)
        subprocess.run([java, "-jar", jar, "backward", "--dy", f"{d}/dy.npy"] + common + ["--out", f"{d}/b"],
                       check=True)
        x = torch.from_numpy(np.load(f"{d}/x.npy")).double().cuda().requires_grad_()
        w = torch.from_numpy(np.load(f"{d}/gamma.npy")).double().cuda().requires_grad_()
        b = torch.from_numpy(np.load(f"{d}/beta.npy")).double().cuda().requires_grad_()
        dy = torch.from_numpy(np.load(f"{d}/dy.npy")).double().cuda()
        y = torch.nn.functional.group_norm(x, g, w, b, 1e-5)
        dx, dw, db = torch.autograd.grad(y, (x, w, b), dy)
        ours = {k: np.load(f"{d}/{p}/{k}.npy") for p, ks in (("f", ("y",)), ("b", ("dx", "dgamma", "dbeta")))
                for k in ks}
        want = {"y": y, "dx": dx, "dgamma": dw, "dbeta": db}
        errs = {k: float(np.abs(ours[k].astype(np.float64) - want[k].detach().cpu().numpy()).max()) for k in want}
        rows.append((label, errs))
    print("accuracy of groupnorm4j (cuda, fp32) against torch float64 F.group_norm + autograd: max abs error")
    print(f"{'shape':<28}{'y':>12}{'dx':>12}{'dgamma':>12}{'dbeta':>12}")
    for label, e in rows:
        print(f"{label:<28}{e['y']:>12.3e}{e['dx']:>12.3e}{e['dgamma']:>12.3e}{e['dbeta']:>12.3e}")


def median_ms(fn, flush, warmup=10, reps=50):
    for _ in range(warmup):
        flush.zero_()
        fn()
    times = []
    for _ in range(reps):
        flush.zero_()
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def parse_ours(path):
    ours = {}
    pat = re.compile(r"^\[(\d+),(\d+),([\dx]+)\]\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
    for line in open(path):
        m = pat.match(line.strip())
        if m:
            n, c, sp, g = int(m[1]), int(m[2]), tuple(int(v) for v in m[3].split("x")), int(m[4])
            ours[(n, c, sp, g)] = (float(m[6]), float(m[8]))
    return ours


def bench(ours_path):
    ours = parse_ours(ours_path)
    props = torch.cuda.get_device_properties(0)
    # As in our bench: at least 2x L2 and 512 MiB, so the host has queued the timed work before the GPU reaches it.
    flush = torch.empty(max(2 * props.L2_cache_size, 512 << 20) // 4, dtype=torch.float32, device="cuda")
    src = torch.empty(64 << 20, dtype=torch.float32, device="cuda")
    dst = torch.empty_like(src)
    copy_ms = median_ms(lambda: dst.copy_(src), flush)
    copy_gbs = 2 * src.numel() * 4 / copy_ms / 1e6
    print(f"torch {torch.__version__} on {props.name}; device-to-device copy of 256 MiB: {copy_ms:.4f} ms = "
          f"{copy_gbs:.0f} GB/s (read+write)")
    print(f"{'shape [N,C,spatial] G':<28}{'MiB':>7} | {'fwd ours':>9}{'fwd torch':>10}{'torch/ours':>11}"
          f"{'ours %copy':>11} | {'bwd ours':>9}{'bwd torch':>10}{'torch/ours':>11}{'ours %copy':>11}")
    for n, c, sp, g in SUITE:
        shape = (n, c) + sp
        hw = int(np.prod(sp))
        x = torch.randn(shape, device="cuda")
        dy = torch.randn(shape, device="cuda")
        w = torch.rand(c, device="cuda") + 0.5
        b = torch.rand(c, device="cuda") - 0.5
        _, mean, rstd = torch.ops.aten.native_group_norm(x, w, b, n, c, hw, g, 1e-5)
        fwd = median_ms(lambda: torch.ops.aten.native_group_norm(x, w, b, n, c, hw, g, 1e-5), flush)
        bwd = median_ms(lambda: torch.ops.aten.native_group_norm_backward(
            dy, x, mean, rstd, w, n, c, hw, g, [True, True, True]), flush)
        tensor_bytes = x.numel() * 4
        mine = ours.get((n, c, sp, g))
        label = f"[{n},{c},{'x'.join(map(str, sp))}] G={g}"
        if mine is None:
            print(f"{label:<28}{tensor_bytes / 2**20:>7.1f} | ours missing; torch fwd {fwd:.4f} ms, bwd {bwd:.4f} ms")
            continue
        of, ob = mine
        print(f"{label:<28}{tensor_bytes / 2**20:>7.1f} | {of:>9.4f}{fwd:>10.4f}{fwd / of:>10.2f}x"
              f"{100 * 2 * tensor_bytes / of / 1e6 / copy_gbs:>10.0f}% | {ob:>9.4f}{bwd:>10.4f}{bwd / ob:>10.2f}x"
              f"{100 * 3 * tensor_bytes / ob / 1e6 / copy_gbs:>10.0f}%")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "inputs":
        if len(sys.argv) > 3:
            n, c, h, w, g = (int(v) for v in sys.argv[3:8])
            make_inputs(sys.argv[2], (n, c, (h, w), g))
        else:
            make_inputs(sys.argv[2])
    elif cmd == "accuracy":
        accuracy(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "bench":
        bench(sys.argv[2])
    else:
        sys.exit(__doc__)
