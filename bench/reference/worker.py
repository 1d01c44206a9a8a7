"""Benchmark worker (PyTorch side): one JSON command per line on stdin, one JSON answer per line.
Run with Debian's /usr/bin/python3 and python3-torch (apt-get install python3-torch)."""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

from models import MobileNetV2, OneBlock

torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))
torch.manual_seed(0)
B, LR, MOMENTUM, WD = 32, 0.05, 0.9, 4e-5
# BENCH_TORCH_DEVICE=cuda (bench/gpu.sh): the workloads on the GPU, each step timed to the GPU's end
DEVICE = torch.device(os.environ.get('BENCH_TORCH_DEVICE', 'cpu'))
if DEVICE.type == 'cuda' and not torch.cuda.is_available():
    DEVICE = torch.device('cpu')


def sync():
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize()


def rss_mb():
    with open('/proc/self/statm') as f:
        return round(int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20, 1)


def make(name):
    bs = int(os.environ.get('BENCH_WSUM_BATCH', '8')) if name == 'c_wsum' else B  # as the tfjs side (wasm32 heap limit)
    x = torch.randn(bs, 3, 32, 32).to(DEVICE)
    labels = torch.tensor([(i * 7) % 10 for i in range(bs)]).to(DEVICE)
    if name in ('a', 'c_bingate', 'c_wsum'):
        net = MobileNetV2(mixed=None if name == 'a' else name[2:]).to(DEVICE).train()
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
        state = {'step': 0}

        def step():
            net.set_step(state['step'])
            state['step'] += 1
            opt.zero_grad(set_to_none=True)  # params off this step's path keep grad None and are skipped
            F.cross_entropy(net(x), labels).backward()
            opt.step()
        return net, step
    if name == 'b':
        net = OneBlock().to(DEVICE).train()
        xb = torch.randn(B, 32, 16, 16).to(DEVICE)
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)

        def step():
            opt.zero_grad(set_to_none=True)
            net(xb).square().mean().backward()
            opt.step()
        return net, step
    if name == 'd':
        net = MobileNetV2().to(DEVICE)
        xv = torch.randn(64, 3, 32, 32).to(DEVICE)
        yv = torch.tensor([(i * 3) % 10 for i in range(64)]).to(DEVICE)

        def step():
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.reset_running_stats()
            net.train()
            with torch.no_grad():
                for _ in range(4):
                    net(x)
                net.eval()
                correct = 0
                for _ in range(4):
                    correct += int((net(xv).argmax(1) == yv).sum())
            return correct
        return net, step
    raise ValueError(name)


workloads = {}
for line in sys.stdin:
    if not line.strip():
        continue
    cmd = json.loads(line)
    try:
        if cmd['cmd'] == 'info':
            out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'mkldnn': torch.backends.mkldnn.is_available(),
                   'device': torch.cuda.get_device_name(DEVICE) if DEVICE.type == 'cuda' else 'cpu'}
        elif cmd['cmd'] == 'run':
            if cmd['workload'] not in workloads:
                workloads[cmd['workload']] = make(cmd['workload'])
            net, step = workloads[cmd['workload']]
            times = []
            for _ in range(cmd['steps']):
                t0 = time.perf_counter()
                step()
                sync()
                times.append((time.perf_counter() - t0) * 1000)
            out = {'times': times, 'params': sum(p.numel() for p in net.weights()) if hasattr(net, 'weights') else sum(p.numel() for p in net.parameters()),
                   'rss': rss_mb(), 'peakRss': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        elif cmd['cmd'] == 'exit':
            break
        else:
            out = {'error': f"unknown command {cmd['cmd']}"}
    except Exception as e:  # noqa: BLE001
        out = {'error': repr(e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
