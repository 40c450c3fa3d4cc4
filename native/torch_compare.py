#!/usr/bin/env python3
"""Side-by-side with PyTorch on the lent GPU machine (run by gpu-run.sh; needs torch and numpy).

  torch_compare.py inputs DIR [N C H W G [nhwc]]  write x/dy/gamma/beta .npy files for CLI and sanitizer runs
  torch_compare.py accuracy JAVA JAR DIR      run our CLI forward/backward on DIR's inputs, compare with torch float64
  torch_compare.py bench OURS_BENCH_TXT       time torch's GroupNorm kernels on the bench suite, print ratios
  torch_compare.py variants OURS_VARIANTS_TXT channels_last / fp16 / bf16 / +SiLU: torch's F.group_norm (+ F.silu)
                                              and its autograd backward beside our bench rows, GB/s and ratios
  torch_compare.py accuracy-variants JAVA JAR DIR   our CLI in every layout x dtype x activation vs torch float64

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


def make_inputs(d, shape=SMALL, mean=0.0, layout="nchw"):
    n, c, sp, g = shape
    rng = np.random.default_rng(7)
    dims = (n,) + sp + (c,) if layout == "nhwc" else (n, c) + sp
    x = (mean + rng.standard_normal(dims)).astype(np.float32)
    np.save(f"{d}/x.npy", x)
    np.save(f"{d}/dy.npy", rng.standard_normal(dims).astype(np.float32))
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


DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
VARIANTS = [("nhwc", "fp32", "none"), ("nchw", "fp16", "none"), ("nchw", "bf16", "none"), ("nhwc", "fp16", "none"),
            ("nhwc", "bf16", "none"), ("nchw", "fp32", "silu"), ("nchw", "bf16", "silu"), ("nhwc", "bf16", "silu")]


def parse_variant_rows(path):
    """Our bench output, several runs: {(layout, dtype, act): {(n, c, spatial, g): (fwd ms, bwd ms)}}."""
    runs, current = {}, None
    row = re.compile(r"^\[([\dx,]+)\]\s+(\d+)\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+([\d.]+)")
    for line in open(path):
        if line.startswith("bench:"):
            m = re.search(r"variant ([a-z0-9 ]+?),", line)
            words = m[1].split() if m else []
            current = ("nhwc" if "nhwc" in words else "nchw",
                       next((w for w in words if w in DTYPES), "fp32"), "silu" if "silu" in words else "none")
            runs.setdefault(current, {})
            continue
        m = row.match(line.strip())
        if m and current is not None:
            dims = m[1].split(",")
            n = int(dims[0])
            if current[0] == "nhwc":
                c, sp = int(dims[-1]), tuple(int(v) for v in dims[1].split("x"))
            else:
                c, sp = int(dims[1]), tuple(int(v) for v in dims[2].split("x"))
            runs[current][(n, c, sp, int(m[2]))] = (float(m[3]), float(m[4]))
    return runs


def torch_variant_inputs(n, c, sp, layout, dtype):
    dt = DTYPES[dtype]
    x = torch.randn((n, c) + sp, device="cuda", dtype=dt)
    if layout == "nhwc":
        x = x.contiguous(memory_format=torch.channels_last if len(sp) == 2 else torch.channels_last_3d)
    w = (torch.rand(c, device="cuda") + 0.5).to(dt)
    b = (torch.rand(c, device="cuda") - 0.5).to(dt)
    return x, w, b


def variants(ours_path):
    import torch.nn.functional as F
    runs = parse_variant_rows(ours_path)
    props = torch.cuda.get_device_properties(0)
    flush = torch.empty(max(2 * props.L2_cache_size, 512 << 20) // 4, dtype=torch.float32, device="cuda")
    print(f"torch {torch.__version__} on {props.name}: F.group_norm (+ F.silu) forward and its autograd backward "
          f"(w, b in the tensor's dtype; channels_last via memory_format); GB/s over the minimal bytes")
    print(f"{'variant':<16}{'shape [N,C,spatial] G':<26} | {'fwd ours':>9}{'GB/s':>7}{'torch':>9}{'ratio':>7}"
          f" | {'bwd ours':>9}{'GB/s':>7}{'torch':>9}{'ratio':>7}")
    for layout, dtype, act in VARIANTS:
        ours = runs.get((layout, dtype, act), {})
        for n, c, sp, g in SUITE:
            x, w, b = torch_variant_inputs(n, c, sp, layout, dtype)

            def fwd():
                y = F.group_norm(x, g, w, b, 1e-5)
                return F.silu(y) if act == "silu" else y

            xg, wg, bg = (t.detach().requires_grad_() for t in (x, w, b))
            z = F.group_norm(xg, g, wg, bg, 1e-5)
            y = F.silu(z) if act == "silu" else z
            dy = torch.randn_like(y)
            t_fwd = median_ms(fwd, flush)
            t_bwd = median_ms(lambda: torch.autograd.grad(y, (xg, wg, bg), dy, retain_graph=True), flush)
            nbytes = x.numel() * x.element_size()
            label = f"[{n},{c},{'x'.join(map(str, sp))}] G={g}"
            name = f"{layout} {dtype} {act}"
            mine = ours.get((n, c, sp, g))
            if mine is None:
                print(f"{name:<16}{label:<26} | ours missing; torch fwd {t_fwd:.4f} ms, bwd {t_bwd:.4f} ms")
                continue
            of, ob = mine
            print(f"{name:<16}{label:<26} | {of:>9.4f}{2 * nbytes / of / 1e6:>7.0f}{t_fwd:>9.4f}{t_fwd / of:>6.2f}x"
                  f" | {ob:>9.4f}{3 * nbytes / ob / 1e6:>7.0f}{t_bwd:>9.4f}{t_bwd / ob:>6.2f}x")


def decode(path, dtype):
    a = np.load(path)
    if dtype == "bf16" and a.dtype == np.uint16:
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a.astype(np.float32)


def accuracy_variants(java, jar, d):
    import torch.nn.functional as F
    n, c, sp, g = SMALL
    print("accuracy of groupnorm4j (cuda) against torch float64 on the same dtype-rounded inputs: max abs error "
          "(outputs rounded to the dtype by us)")
    print(f"{'variant':<18}{'y':>12}{'dx':>12}{'dgamma':>12}{'dbeta':>12}")
    for layout in ("nchw", "nhwc"):
        for dtype in DTYPES:
            for act in ("none", "silu"):
                rng = np.random.default_rng(11)
                x = torch.from_numpy(rng.standard_normal((n, c) + sp).astype(np.float32)).to(DTYPES[dtype]).float()
                dy = torch.from_numpy(rng.standard_normal((n, c) + sp).astype(np.float32)).to(DTYPES[dtype]).float()
                w = torch.from_numpy(rng.uniform(0.5, 1.5, c).astype(np.float32))
                b = torch.from_numpy(rng.uniform(-0.5, 0.5, c).astype(np.float32))
                perm = (0,) + tuple(range(2, 2 + len(sp))) + (1,)
                to_file = (lambda t: t.permute(perm).contiguous()) if layout == "nhwc" else (lambda t: t)
                np.save(f"{d}/vx.npy", to_file(x).numpy())
                np.save(f"{d}/vdy.npy", to_file(dy).numpy())
                np.save(f"{d}/vg.npy", w.numpy())
                np.save(f"{d}/vb.npy", b.numpy())
                flags = ["--groups", str(g), "--gamma", f"{d}/vg.npy", "--device", "cuda", "--layout", layout,
                         "--dtype", dtype, "--activation", act]
                subprocess.run([java, "-jar", jar, "forward", "--x", f"{d}/vx.npy", "--beta", f"{d}/vb.npy"] + flags
                               + ["--out", f"{d}/vf"], check=True)
                beta = ["--beta", f"{d}/vb.npy"] if act == "silu" else []  # backward needs beta only for SiLU
                subprocess.run([java, "-jar", jar, "backward", "--x", f"{d}/vx.npy", "--dy", f"{d}/vdy.npy"] + beta
                               + flags + ["--out", f"{d}/vb"], check=True)
                xd, wd, bd = (t.double().cuda().requires_grad_() for t in (x, w, b))
                z = F.group_norm(xd, g, wd, bd, 1e-5)
                y = F.silu(z) if act == "silu" else z
                gx, gw, gb = torch.autograd.grad(y, (xd, wd, bd), dy.double().cuda())
                back = (lambda a: np.moveaxis(a, -1, 1)) if layout == "nhwc" else (lambda a: a)
                got = {"y": back(decode(f"{d}/vf/y.npy", dtype)), "dx": back(decode(f"{d}/vb/dx.npy", dtype)),
                       "dgamma": np.load(f"{d}/vb/dgamma.npy"), "dbeta": np.load(f"{d}/vb/dbeta.npy")}
                want = {"y": y, "dx": gx, "dgamma": gw, "dbeta": gb}
                e = {k: float(np.abs(got[k].astype(np.float64) - want[k].detach().cpu().numpy()).max()) for k in want}
                print(f"{layout + ' ' + dtype + ' ' + act:<18}{e['y']:>12.3e}{e['dx']:>12.3e}{e['dgamma']:>12.3e}"
                      f"{e['dbeta']:>12.3e}")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "inputs":
        if len(sys.argv) > 3:
            n, c, h, w, g = (int(v) for v in sys.argv[3:8])
            make_inputs(sys.argv[2], (n, c, (h, w), g), layout=sys.argv[8] if len(sys.argv) > 8 else "nchw")
        else:
            make_inputs(sys.argv[2])
    elif cmd == "accuracy":
        accuracy(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "bench":
        bench(sys.argv[2])
    elif cmd == "variants":
        variants(sys.argv[2])
    elif cmd == "accuracy-variants":
        accuracy_variants(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
