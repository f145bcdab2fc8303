#!/usr/bin/python3
"""torch_ref.py - PyTorch reference for the seed-best autoencoder.

Builds the same network, initialisation, optimiser and loss as the C
engine (Keras conventions) so that ae-train and ae-apply can be compared
with PyTorch on accuracy (validation PSNR) and speed (images/s).

  torch_ref.py train --train FILE --val FILE [--epochs N] [--batch B]
                     [--threads T] [--seed S] [--noise SIGMA [--clip]]
                     [--max-images N] [--max-val N]
  torch_ref.py eval  --input FILE [--batch B] [--threads T] [--seed S]
                     [--max-images N] [--repeat R]

Input files are tensor streams (cae-stream(5)), u8 or f32, one or more
segments, "-" for standard input. The whole stream is read into memory
and u8 samples are converted to float (v/255) once, up front; the
images/s figures therefore exclude reading and converting the data.

Each mode ends with one machine-readable line:
  RESULT train_ips=... val_mse=... val_psnr=...
  RESULT eval_ips=...
"""

import argparse
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"\x89TNS\r\n\x1a\n"
HEADER_LEN = 64
DT_U8, DT_F32 = 1, 2


def read_stream(path, max_images=None):
    """Reads a whole tensor stream; returns (N,C,H,W) float32 array in
    [0,1] (u8 v -> v/255) and int32 labels (zeros when absent)."""
    if path == "-":
        buf = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            buf = f.read()
    off, shape, datas, labels = 0, None, [], []
    total = 0
    while off < len(buf):
        if max_images is not None and total >= max_images:
            break
        h = buf[off:off + HEADER_LEN]
        if len(h) < HEADER_LEN or h[:8] != MAGIC:
            raise ValueError("%s: bad segment header at byte %d" % (path, off))
        version = int.from_bytes(h[8:10], "little")
        hlen = int.from_bytes(h[10:12], "little")
        dtype, flags = h[12], h[13]
        c, hh, w = (int.from_bytes(h[i:i + 4], "little") for i in (16, 20, 24))
        count = int.from_bytes(h[32:40], "little")
        if version != 1 or hlen != HEADER_LEN or dtype not in (DT_U8, DT_F32):
            raise ValueError("%s: unsupported header at byte %d" % (path, off))
        if shape is None:
            shape = (c, hh, w)
        elif shape != (c, hh, w):
            raise ValueError("%s: segment shape changes at byte %d" % (path, off))
        off += HEADER_LEN
        samples = c * hh * w
        lab = 4 if flags & 1 else 0
        rec = lab + samples * (4 if dtype == DT_F32 else 1)
        if off + count * rec > len(buf):
            raise ValueError("%s: truncated segment at byte %d" % (path, off))
        take = count
        if max_images is not None:
            take = min(count, max_images - total)
        raw = np.frombuffer(buf, np.uint8, take * rec, off).reshape(take, rec)
        off += count * rec
        if lab:
            labels.append(raw[:, :4].copy().view("<i4").reshape(take))
        else:
            labels.append(np.zeros(take, np.int32))
        body = raw[:, lab:]
        if dtype == DT_U8:
            x = body.astype(np.float32) / np.float32(255.0)
        else:
            x = body.copy().view("<f4").astype(np.float32)
        datas.append(x.reshape(take, c, hh, w))
        total += take
    if shape is None:
        raise ValueError("%s: empty stream" % path)
    return np.concatenate(datas), np.concatenate(labels)


class SeedBest(nn.Module):
    """conv32,bn,conv32s2,conv32,bn,up,conv32,bn,conv3k1:sigmoid; every
    conv has ReLU unless stated. Stride-2 'same' padding as in Keras/TF:
    on an even input the one padding row/column goes after, none before.
    BN running variance: PyTorch keeps the unbiased batch variance, Keras
    and the engine the biased one; with 25,600 or more samples per channel
    and batch the difference is below 1e-4 relative."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 32, 3, padding=1)
        self.b1 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        self.c2 = nn.Conv2d(32, 32, 3, stride=2, padding=0)
        self.c3 = nn.Conv2d(32, 32, 3, padding=1)
        self.b2 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        self.c4 = nn.Conv2d(32, 32, 3, padding=1)
        self.b3 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        self.c5 = nn.Conv2d(32, 3, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # fan_in = in*k*k, fan_out = out*k*k: Keras glorot_uniform
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.b1(F.relu(self.c1(x)))
        x = F.relu(self.c2(F.pad(x, (0, 1, 0, 1))))
        x = self.b2(F.relu(self.c3(x)))
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.b3(F.relu(self.c4(x)))
        return torch.sigmoid(self.c5(x))


def flops_per_image(h=32, w=32):
    """FLOPs per image of seed-best's convolutions (2*OC*IC*k*k*OH*OW each),
    (forward, training step). Training = forward + weight gradient (same
    as forward) + input gradient (same, except for the first conv, whose
    input needs none): about 30.3 and 89.1 MFLOP at 3x32x32."""
    convs = [(32, 3, 3, h, w), (32, 32, 3, h // 2, w // 2),
             (32, 32, 3, h // 2, w // 2), (32, 32, 3, h, w), (3, 32, 1, h, w)]
    f = [2 * oc * ic * k * k * oh * ow for oc, ic, k, oh, ow in convs]
    return sum(f), 3 * sum(f) - f[0]


def evaluate(model, x, batch):
    """Mean squared error over all samples, eval mode (running BN stats)."""
    model.eval()
    se, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            xb = x[i:i + batch]
            se += float(F.mse_loss(model(xb), xb, reduction="sum"))
            n += xb.numel()
    return se / n


def psnr(mse):
    return 10.0 * math.log10(1.0 / mse) if mse > 0 else float("inf")


def cmd_train(a):
    xt, _ = read_stream(a.train, a.max_images)
    xv, _ = read_stream(a.val, a.max_val)
    xt, xv = torch.from_numpy(xt), torch.from_numpy(xv)
    if xt.shape[1:] != (3, 32, 32) or xv.shape[1:] != (3, 32, 32):
        sys.exit("torch_ref.py: seed-best here expects 3x32x32 images")
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    model = SeedBest()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999),
                           eps=1e-7)
    n = xt.shape[0]
    print("torch %s, %d threads, %d train, %d val images, batch %d%s"
          % (torch.__version__, torch.get_num_threads(), n, xv.shape[0],
             a.batch, (", noise %g%s" % (a.noise, " clipped" if a.clip else ""))
             if a.noise else ""))
    print("epoch\ttrain_loss\tval_mse\tval_psnr\tseconds\timages_per_s")
    train_sec, mse = 0.0, float("nan")
    for ep in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        if a.noise:
            # fresh noise each epoch, clean target (as ae-train --noise)
            noisy = xt + a.noise * torch.randn(xt.shape, generator=gen)
            if a.clip:
                noisy.clamp_(0, 1)
        loss_sum = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            yb = xt[idx]
            xb = noisy[idx] if a.noise else yb
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += float(loss) * idx.numel()
        sec = time.perf_counter() - t0
        train_sec += sec
        mse = evaluate(model, xv, a.batch)
        print("%d\t%.6f\t%.6f\t%.3f\t%.2f\t%.1f"
              % (ep, loss_sum / n, mse, psnr(mse), sec, n / sec), flush=True)
    ips = n * a.epochs / train_sec
    print("RESULT train_ips=%.1f val_mse=%.6f val_psnr=%.3f gflops=%.2f"
          % (ips, mse, psnr(mse), ips * flops_per_image()[1] / 1e9))


def cmd_eval(a):
    x, _ = read_stream(a.input, a.max_images)
    x = torch.from_numpy(x)
    if x.shape[1:] != (3, 32, 32):
        sys.exit("torch_ref.py: seed-best here expects 3x32x32 images")
    torch.manual_seed(a.seed)
    model = SeedBest().eval()
    with torch.no_grad():
        model(x[:a.batch])  # warm-up batch, not timed
        t0 = time.perf_counter()
        for _ in range(a.repeat):
            for i in range(0, x.shape[0], a.batch):
                model(x[i:i + a.batch])
        sec = time.perf_counter() - t0
    ips = x.shape[0] * a.repeat / sec
    print("torch %s, %d threads, %d images x %d, batch %d: %.2f s"
          % (torch.__version__, torch.get_num_threads(), x.shape[0], a.repeat,
             a.batch, sec))
    print("RESULT eval_ips=%.1f gflops=%.2f" % (ips, ips * flops_per_image()[0] / 1e9))


def main():
    p = argparse.ArgumentParser(description="PyTorch reference for seed-best")
    sub = p.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("train")
    t.add_argument("--train", required=True)
    t.add_argument("--val", required=True)
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--noise", type=float, default=0.0)
    t.add_argument("--clip", action="store_true")
    t.add_argument("--max-val", type=int)
    e = sub.add_parser("eval")
    e.add_argument("--input", required=True)
    e.add_argument("--repeat", type=int, default=1)
    for s in (t, e):
        s.add_argument("--batch", type=int, default=100)
        s.add_argument("--threads", type=int, default=1)
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--max-images", type=int)
    a = p.parse_args()
    for k in ("batch", "threads", "epochs", "repeat", "max_images", "max_val"):
        v = getattr(a, k, None)
        if v is not None and v < 1:
            p.error("--%s must be at least 1" % k.replace("_", "-"))
    if getattr(a, "noise", 0) < 0:
        p.error("--noise must not be negative")
    if getattr(a, "clip", False) and not a.noise:
        p.error("--clip needs --noise")
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    try:
        cmd_train(a) if a.mode == "train" else cmd_eval(a)
    except (OSError, ValueError) as err:
        sys.exit("torch_ref.py: %s" % err)


if __name__ == "__main__":
    main()
