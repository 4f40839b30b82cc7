"""The benchmark's CPU peer: one training step of the same two-head 3D U-Net as vg.unet3d (depth
3, 16 base channels, conv 3x3x3 'same' without bias -> GroupNorm(8) -> relu, twice per level;
max-pool down, nearest upsampling up, skip concatenation; 1x1x1 heads), 0.5 * dice(softmax) +
0.3 * tversky(sigmoid, alpha 0.3, beta 0.7), Adam, on PyTorch's CPU (oneDNN) with every core.
Usage: python3 bench/torch_unet.py SIZE BATCH RUNS  ->  one JSON line {version, threads, stepMs}.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

size, batch, runs = (int(a) for a in sys.argv[1:4])
base, depth, classes = 16, 3, 4
torch.manual_seed(0)
# Debian's build starts with one thread; the peer gets every core, as a user's PyTorch would.
torch.set_num_threads(len(os.sched_getaffinity(0)))


def block(cin, cout):
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.GroupNorm(min(8, cout), cout), nn.ReLU(),
        nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(min(8, cout), cout), nn.ReLU(),
    )


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        ch = [base * 2 ** i for i in range(depth)]
        self.enc = nn.ModuleList([block(1 if i == 0 else ch[i - 1], ch[i]) for i in range(depth)])
        self.dec = nn.ModuleList([block(ch[i] + ch[i + 1], ch[i]) for i in range(depth - 1)])
        self.seg = nn.Conv3d(base, classes, 1)
        self.fg = nn.Conv3d(base, 1, 1)

    def forward(self, x):
        skips = []
        for i, b in enumerate(self.enc):
            x = b(x)
            if i < depth - 1:
                skips.append(x)
                x = F.max_pool3d(x, 2)
        for i in reversed(range(depth - 1)):
            x = F.interpolate(x, scale_factor=2, mode='nearest')
            x = self.dec[i](torch.cat([skips[i], x], 1))
        return self.seg(x), self.fg(x)


def dice(t, p):  # per sample and class, then the mean
    dims = (2, 3, 4)
    tp, st, sp = (t * p).sum(dims), t.sum(dims), p.sum(dims)
    return 1 - ((2 * tp + 1e-5) / (st + sp + 1e-5)).mean()


def tversky(t, p, a=0.3, b=0.7):
    dims = (2, 3, 4)
    tp, st, sp = (t * p).sum(dims), t.sum(dims), p.sum(dims)
    return 1 - ((tp + 1e-5) / (tp + a * (sp - tp) + b * (st - tp) + 1e-5)).mean()


model = UNet()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(batch, 1, size, size, size)
labels = torch.randint(0, classes, (batch, size, size, size))
onehot = F.one_hot(labels, classes).permute(0, 4, 1, 2, 3).float()
fg = (labels > 0).float().unsqueeze(1)


def step():
    opt.zero_grad()
    seg, f = model(x)
    loss = 0.5 * dice(onehot, seg.softmax(1)) + 0.3 * tversky(fg, torch.sigmoid(f))
    loss.backward()
    opt.step()


step()
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({'version': torch.__version__, 'threads': torch.get_num_threads(), 'stepMs': times[len(times) // 2]}))
