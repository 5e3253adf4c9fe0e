#!/usr/bin/env python3
"""The reference network's training and evaluation in Python PyTorch (and
torchvision's ResNet-18 for its rows): the same work as bench/epoch_bench.cpp, so lrtune can be compared with PyTorch on the
same LibTorch. Run alone it prints its own table; lrtune_bench starts it with
--worker and asks for one timed repeat at a time (JSON lines on stdin/stdout),
so that C++ and Python runs interleave.

Two kinds of work, as in the C++ program:
  steps  forward, loss, backward and SGD update on pre-made normalised tensors
         (and forward-only evaluation): the floor, nothing else;
  epoch  a whole epoch written the way a careful PyTorch user would: shuffle,
         batch-level crop/flip/normalise from uint8 images with one gather,
         metrics accumulated on the device, evaluation without gradients.
"""
import argparse
import ctypes
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FULL_TRAIN, FULL_EVAL = 45_000, 15_000
# The data's shape (--dataset): channels, height, width, classes.
SHAPES = {"cifar10": (3, 32, 32, 10), "fashion_mnist": (1, 28, 28, 10)}
SHAPE = SHAPES["cifar10"]
PREMADE_BATCHES = 8
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4


class ReferenceCnn(nn.Module):
    """lrtune's reference_cnn: three conv/ReLU/max-pool stages, dropout 0.3, then
    64*(H/8)*(W/8) -> 500 -> classes (1024 -> 500 -> 10 for CIFAR-10)."""

    def __init__(self, shape, p=0.3):
        super().__init__()
        channels, height, width, classes = shape
        self.flat = 64 * (height // 8) * (width // 8)
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(self.flat, 500)
        self.fc2 = nn.Linear(500, classes)
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        x = self.dropout(x.reshape(x.size(0), self.flat))
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def steady_malloc():
    """As lrtune_bench --malloc steady: freed blocks up to 32 MB stay in the heap."""
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def network(name):
    """The eager network of a row: the reference CNN (lrtune's "native" and
    "torchscript" rows), or torchvision's ResNet-18 for the data's shape."""
    if name == "resnet18":
        import torchvision
        net = torchvision.models.resnet18(weights=None, num_classes=SHAPE[3])
        if SHAPE[0] != 3:
            net.conv1 = nn.Conv2d(SHAPE[0], 64, 7, stride=2, padding=3, bias=False)
        return net
    return ReferenceCnn(SHAPE)


def save_script(name, path):
    """The TorchScript file lrtune trains for a row: torch.jit.script, as users make them."""
    torch.manual_seed(1)
    torch.jit.script(network(name)).save(path)


def make_model(device, name="native"):
    torch.manual_seed(1)
    model = network(name).to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    return model, opt


def premade(n, device):
    """Channels-last strides on the CPU, as real batches have (x.contiguous(
    memory_format=torch.channels_last) leaves a one-channel tensor as it is)."""
    x = torch.randn(n, *SHAPE[:3]).to(device)
    if device.type != "cpu":
        return x
    return torch.empty(x.shape, memory_format=torch.channels_last).copy_(x)


def autocast(device, precision):
    """bf16: torch.autocast's lists (convolutions and matrix products in bf16);
    fp32: nothing. The loss is taken in fp32 outside it, as lrtune does."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


class Steps:
    """The floor: pre-made tensors, no data path, no metrics."""

    def __init__(self, device, batch, eval_batch, precision="fp32", model="native"):
        self.device, self.batch, self.eval_batch = device, batch, eval_batch
        self.precision = precision
        self.model, self.opt = make_model(device, model)
        self.xs = [premade(batch, device) for _ in range(PREMADE_BATCHES)]
        self.ys = [torch.randint(SHAPE[3], (batch,)).to(device) for _ in range(PREMADE_BATCHES)]
        self.ex = [premade(eval_batch, device) for _ in range(PREMADE_BATCHES)]

    def run(self, train_images, eval_images, clock=time.perf_counter):
        steps = -(-train_images // self.batch)
        self.model.train()
        sync(self.device)
        faults = minor_faults()
        t0 = clock()
        for s in range(steps):
            k = s % PREMADE_BATCHES
            self.opt.zero_grad(set_to_none=False)  # as LibTorch 1.13's C++ zero_grad()
            with autocast(self.device, self.precision):
                logits = self.model(self.xs[k])
            F.cross_entropy(logits.float(), self.ys[k]).backward()
            self.opt.step()
        sync(self.device)
        train_s = clock() - t0
        batches = -(-eval_images // self.eval_batch)
        self.model.eval()
        t0 = clock()
        with torch.no_grad(), autocast(self.device, self.precision):
            for b in range(batches):
                self.model(self.ex[b % PREMADE_BATCHES])
        sync(self.device)
        return dict(train_images=steps * self.batch, train_s=train_s,
                    eval_images=batches * self.eval_batch, eval_s=clock() - t0,
                    faults=minor_faults() - faults)


def read_cifar(folder):
    """CIFAR-10 binary files -> (train u8 [50000,3,32,32], labels, test u8, labels)."""
    def read(names):
        raw = np.concatenate([np.fromfile(os.path.join(folder, n), dtype=np.uint8) for n in names])
        rec = raw.reshape(-1, 1 + 3 * 32 * 32)
        return (torch.from_numpy(rec[:, 1:].reshape(-1, 3, 32, 32).copy()),
                torch.from_numpy(rec[:, 0].astype(np.int64)))
    tr, trl = read([f"data_batch_{i}.bin" for i in range(1, 6)])
    te, tel = read(["test_batch.bin"])
    return tr, trl, te, tel


def read_idx(folder):
    """The four IDX files (gzipped) -> (train u8 [N,1,H,W], labels, test u8, labels)."""
    def read(name, dims):
        raw = gzip.open(os.path.join(folder, name + ".gz")).read()
        shape = [int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big") for d in range(dims)]
        data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
        return torch.from_numpy(data.copy())
    def part(p):
        images = read(f"{p}-images-idx3-ubyte", 3).unsqueeze(1)
        return images, read(f"{p}-labels-idx1-ubyte", 1).long()
    return (*part("train"), *part("t10k"))


def generated_cifar():
    g = torch.Generator().manual_seed(1)
    def labelled(n):
        return torch.randint(256, (n, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(n) % 10
    return (*labelled(50_000), *labelled(10_000))


class Epoch:
    """One real epoch from uint8 images: augmentation, training, evaluation."""

    def __init__(self, device, batch, eval_batch, data, train_images, eval_images, precision="fp32",
                 model="native"):
        self.device, self.batch, self.eval_batch = device, batch, eval_batch
        self.precision = precision
        self.model, self.opt = make_model(device, model)
        tr, trl, te, tel = data
        val = max(10, eval_images // 3 // 10 * 10)
        test = min(eval_images - val, te.size(0))
        perm = torch.randperm(tr.size(0), generator=torch.Generator().manual_seed(2))
        train_idx, val_idx = perm[val:val + train_images], perm[:val]
        # Channels-last (N, H, W, C) uint8 so a batch comes out channels-last.
        nhwc = tr.permute(0, 2, 3, 1).contiguous()
        self.train_padded = F.pad(nhwc[train_idx], (0, 0, 4, 4, 4, 4))  # [N, H+8, W+8, C]
        self.train_labels = trl[train_idx]
        self.eval_sets = [(nhwc[val_idx], trl[val_idx]),
                          (te[:test].permute(0, 2, 3, 1).contiguous(), tel[:test])]
        height, width = SHAPE[1], SHAPE[2]
        scaled = self.train_padded[:, 4:4 + height, 4:4 + width].float().div_(255)
        self.mean = scaled.mean(dim=(0, 1, 2)) * 255
        self.inv_std = 1 / (scaled.std(dim=(0, 1, 2)) * 255)
        self.gen = torch.Generator().manual_seed(3)
        self.rows, self.cols = torch.arange(height), torch.arange(width)

    def normalise(self, nhwc_u8):
        x = (nhwc_u8.float() - self.mean) * self.inv_std
        return x.permute(0, 3, 1, 2)  # NCHW shape, channels-last memory

    def augmented(self, idx):
        n = idx.numel()
        oy = torch.randint(0, 9, (n, 1), generator=self.gen)
        ox = torch.randint(0, 9, (n, 1), generator=self.gen)
        flip = torch.randint(0, 2, (n, 1), generator=self.gen).bool()
        rows = oy + self.rows
        cols = ox + torch.where(flip, self.cols.numel() - 1 - self.cols, self.cols)
        crop = self.train_padded[idx[:, None, None], rows[:, :, None], cols[:, None, :]]
        return self.normalise(crop)

    def run(self, clock=time.perf_counter):
        dev = self.device
        n = self.train_labels.numel()
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
        correct = torch.zeros((), dtype=torch.int64, device=dev)
        sync(dev)
        faults = minor_faults()
        t0 = clock()
        self.model.train()
        order = torch.randperm(n, generator=self.gen)
        for b in range(0, n, self.batch):
            idx = order[b:b + self.batch]
            x = self.augmented(idx).to(dev, non_blocking=True)
            y = self.train_labels[idx].to(dev, non_blocking=True)
            self.opt.zero_grad(set_to_none=False)
            with autocast(dev, self.precision):
                logits = self.model(x)
            logits = logits.float()
            loss = F.cross_entropy(logits, y)
            loss.backward()
            self.opt.step()
            with torch.no_grad():
                loss_sum += loss.detach().double() * idx.numel()
                correct += (logits.argmax(1) == y).sum()
        loss_sum.item(), correct.item()
        train_s = clock() - t0
        t0 = clock()
        self.model.eval()
        images = 0
        with torch.no_grad():
            for images_u8, labels in self.eval_sets:
                e_loss = torch.zeros((), dtype=torch.float64, device=dev)
                e_correct = torch.zeros((), dtype=torch.int64, device=dev)
                for b in range(0, labels.numel(), self.eval_batch):
                    x = self.normalise(images_u8[b:b + self.eval_batch]).to(dev, non_blocking=True)
                    y = labels[b:b + self.eval_batch].to(dev, non_blocking=True)
                    with autocast(dev, self.precision):
                        logits = self.model(x)
                    logits = logits.float()
                    e_loss += F.cross_entropy(logits, y).double() * y.numel()
                    e_correct += (logits.argmax(1) == y).sum()
                e_loss.item(), e_correct.item()
                images += labels.numel()
        return dict(train_images=n, train_s=train_s, eval_images=images,
                    eval_s=clock() - t0, faults=minor_faults() - faults)


class Reference:
    """Keeps models and data between requests, keyed by what they depend on."""

    def __init__(self, args):
        if args.malloc == "steady":
            steady_malloc()
        torch.set_num_threads(args.threads)
        torch.use_deterministic_algorithms(bool(args.deterministic))
        self.data_dir = args.data
        self.dataset = args.dataset
        self._data = None
        self._steps = {}

    def data(self):
        if self._data is None:
            if self.dataset == "fashion_mnist":
                self._data = read_idx(self.data_dir)
            else:
                self._data = read_cifar(self.data_dir) if self.data_dir else generated_cifar()
        return self._data

    def handle(self, q):
        device = torch.device(q.get("device", "cpu"))
        # "cpu": process CPU time, as the C++ side's --clock cpu.
        clock = time.process_time if q.get("clock") == "cpu" else time.perf_counter
        precision = q.get("precision", "fp32")
        model = q.get("model", "native")
        if q["cmd"] == "script":
            save_script(model, q["path"])
            return {}
        if q["cmd"] == "steps":
            key = (str(device), q["batch"], q["eval_batch"], precision, model)
            if key not in self._steps:
                self._steps = {key: Steps(device, q["batch"], q["eval_batch"], precision, model)}
            return self._steps[key].run(q["train_images"], q["eval_images"], clock)
        if q["cmd"] == "epoch":
            t0 = clock()
            epoch = Epoch(device, q["batch"], q["eval_batch"], self.data(),
                          q["train_images"], q["eval_images"], precision, model)
            r = epoch.run(clock)
            r["other_s"] = clock() - t0 - r["train_s"] - r["eval_s"]
            return r
        raise ValueError("unknown command " + q["cmd"])


def worker(ref):
    for line in sys.stdin:
        q = json.loads(line)
        if q["cmd"] == "quit":
            break
        try:
            a = {"torch": torch.__version__} if q["cmd"] == "hello" else ref.handle(q)
        except Exception as e:  # reported to the C++ side, which stops
            a = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(a), flush=True)


def profile(ref, batch, steps):
    """Operator table of a few floor training steps (per input shape = per layer)."""
    from torch.profiler import ProfilerActivity, profile as torch_profile
    s = Steps(torch.device("cpu"), batch, 250)
    s.run(batch * 3, 250)
    with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        s.run(batch * steps, 250)
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total",
                                                             row_limit=40))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", action="store_true", help="answer JSON requests on stdin")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads")
    p.add_argument("--deterministic", type=int, default=1, help="use_deterministic_algorithms (as lrtune)")
    p.add_argument("--dataset", default="cifar10", choices=sorted(SHAPES),
                   help="the data's shape; fashion_mnist reads --data's gzipped IDX files")
    p.add_argument("--data", default="", help="the data set's folder (cifar10 default: generated data)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", default="64,128,256", help="training batch sizes")
    p.add_argument("--eval-batch", type=int, default=250)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"], help="bf16: torch.autocast")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=0, help="training steps per repeat (0 = full epoch)")
    p.add_argument("--batches", type=int, default=0, help="evaluation batches per repeat (0 = 15,000 images)")
    p.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                   help="cpu: process CPU time (use with --threads 1 on a busy machine)")
    p.add_argument("--malloc", default="steady", choices=["steady", "as-is"],
                   help="steady: keep freed blocks in the heap (as lrtune_bench)")
    p.add_argument("--profile", action="store_true", help="print an operator table of floor steps")
    args = p.parse_args()
    global SHAPE
    SHAPE = SHAPES[args.dataset]
    ref = Reference(args)
    if args.worker:
        return worker(ref)
    batches = [int(b) for b in args.batch.split(",")]
    if args.profile:
        return profile(ref, batches[0], args.steps or 20)
    print("mode   batch  train img/s  eval img/s  s/epoch (45k+15k)")
    for b in batches:
        train = args.steps * b if args.steps else FULL_TRAIN
        evals = args.batches * args.eval_batch if args.batches else FULL_EVAL
        for mode in ("steps", "epoch"):
            q = dict(cmd=mode, device=args.device, batch=b, eval_batch=args.eval_batch,
                     train_images=train, eval_images=evals, clock=args.clock, precision=args.precision)
            ref.handle(dict(q, train_images=min(train, 3 * b), eval_images=args.eval_batch))  # warm-up
            runs = [ref.handle(q) for _ in range(args.repeats)]
            tr = statistics.median(r["train_images"] / r["train_s"] for r in runs)
            ev = statistics.median(r["eval_images"] / r["eval_s"] for r in runs)
            print(f"{mode:6} {b:5}  {tr:11.0f}  {ev:10.0f}  {FULL_TRAIN / tr + FULL_EVAL / ev:8.1f}")


if __name__ == "__main__":
    main()
