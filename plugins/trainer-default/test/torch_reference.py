"""PyTorch's trajectories for src/torch-reference.test.ts: torch.optim optimizers and
torch.optim.lr_scheduler schedules, run by PyTorch 1.13 on fixed numbers, written as JSON data so
that the test needs no Python. Made once with:

    /usr/bin/python3 plugins/trainer-default/test/torch_reference.py

which writes plugins/trainer-default/test/torch-reference.json. Each case carries DefaultTrainer's
options beside the torch class and arguments that they stand for.
"""
import json
import os

import torch

W0 = [0.5, -0.3, 0.8, -1.2]
# One gradient per step: signs flip and a zero appears, so that Rprop's sign rules, AMSGrad's max,
# RAdam's two branches (rho_t <= 5 in the first steps at beta2 = 0.9) and the rest are all taken.
GRADS = [
    [0.30, -0.20, 0.05, 1.10],
    [0.25, 0.40, -0.15, 0.90],
    [-0.10, 0.35, 0.00, 0.70],
    [-0.30, -0.05, 0.20, 0.60],
    [0.15, -0.25, 0.20, -0.40],
    [0.20, 0.10, -0.30, -0.20],
    [-0.05, 0.30, 0.25, 0.10],
    [0.40, -0.10, 0.10, 0.05],
]

# (case name, DefaultTrainer options, torch class, torch arguments)
OPTIMIZERS = [
    ('sgd', dict(optimizer='sgd', lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), 'SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ('adam_amsgrad', dict(optimizer='adam', lr=0.05, betas=[0.8, 0.95], weight_decay=0.01, amsgrad=True), 'Adam', dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.01, amsgrad=True)),
    ('adamw', dict(optimizer='adamw', lr=0.05, weight_decay=0.1), 'AdamW', dict(lr=0.05, weight_decay=0.1)),
    ('rmsprop', dict(optimizer='rmsprop', lr=0.01, alpha=0.9, momentum=0, weight_decay=0.01), 'RMSprop', dict(lr=0.01, alpha=0.9, weight_decay=0.01)),
    ('rmsprop_centered_momentum', dict(optimizer='rmsprop', lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.01), 'RMSprop', dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.01)),
    # eps left out on both sides: the trainer's eps 0 stands for the optimizer's own default (1e-10)
    ('adagrad', dict(optimizer='adagrad', lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.01), 'Adagrad', dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.01)),
    # (1e-6 here)
    ('adadelta', dict(optimizer='adadelta', lr=1.0, rho=0.8, weight_decay=0.01), 'Adadelta', dict(lr=1.0, rho=0.8, weight_decay=0.01)),
    ('adamax', dict(optimizer='adamax', lr=0.02, betas=[0.9, 0.99], weight_decay=0.01), 'Adamax', dict(lr=0.02, betas=(0.9, 0.99), weight_decay=0.01)),
    # foreach: 1.13's default (single-tensor) NAdam multiplies mu_t into the next step's product
    # twice, a bug that PyTorch 2.0 fixed (pytorch/pytorch#92699); 1.13's foreach path has the
    # fixed rule, which is the one implemented (the paper's, and PyTorch's since 2.0).
    ('nadam', dict(optimizer='nadam', lr=0.02, momentum_decay=0.004, weight_decay=0.01), 'NAdam', dict(lr=0.02, momentum_decay=0.004, weight_decay=0.01, foreach=True)),
    ('radam', dict(optimizer='radam', lr=0.05, betas=[0.9, 0.9], weight_decay=0.01), 'RAdam', dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.01)),
    ('asgd', dict(optimizer='asgd', lr=0.05, lambd=0.01, asgd_alpha=0.75, weight_decay=0.01), 'ASGD', dict(lr=0.05, lambd=0.01, alpha=0.75, weight_decay=0.01)),
    ('rprop', dict(optimizer='rprop', lr=0.05, etas=[0.5, 1.2], step_sizes=[1e-3, 0.2], weight_decay=0), 'Rprop', dict(lr=0.05, etas=(0.5, 1.2), step_sizes=(1e-3, 0.2))),
]

EPOCHS = 12
BASE_LR = 0.1
SCHEDULES = [
    ('cosine', dict(lr_scheduler='cosine', t_max=12, lr_min=0.001), 'CosineAnnealingLR', dict(T_max=12, eta_min=0.001)),
    ('step', dict(lr_scheduler='step', step_size=3, gamma=0.5), 'StepLR', dict(step_size=3, gamma=0.5)),
    # a milestone named twice decays twice, as torch counts them
    ('multistep', dict(lr_scheduler='multistep', milestones=[2, 5, 5, 9], gamma=0.5), 'MultiStepLR', dict(milestones=[2, 5, 5, 9], gamma=0.5)),
    ('exponential', dict(lr_scheduler='exponential', gamma=0.8), 'ExponentialLR', dict(gamma=0.8)),
    ('cosine_restarts', dict(lr_scheduler='cosine_restarts', t_0=3, t_mult=1, lr_min=0.001), 'CosineAnnealingWarmRestarts', dict(T_0=3, eta_min=0.001)),
    ('cosine_restarts_mult', dict(lr_scheduler='cosine_restarts', t_0=2, t_mult=2, lr_min=0.0), 'CosineAnnealingWarmRestarts', dict(T_0=2, T_mult=2)),
    ('linear_up', dict(lr_scheduler='linear', start_factor=0.25, end_factor=1.0, total_iters=4), 'LinearLR', dict(start_factor=0.25, end_factor=1.0, total_iters=4)),
    ('linear_down', dict(lr_scheduler='linear', start_factor=1.0, end_factor=0.1, total_iters=6), 'LinearLR', dict(start_factor=1.0, end_factor=0.1, total_iters=6)),
    ('constant', dict(lr_scheduler='constant', factor=0.5, total_iters=3), 'ConstantLR', dict(factor=0.5, total_iters=3)),
    ('poly', dict(lr_scheduler='poly', total_iters=8, power=2.0), 'PolynomialLR', dict(total_iters=8, power=2.0)),
    # lr_lambda: a constant factor (a YAML config cannot hold a Python function); Python makes it a lambda
    ('multiplicative', dict(lr_scheduler='multiplicative', lr_lambda=0.9), 'MultiplicativeLR', dict(lr_lambda=0.9)),
    # the cycling schedules also set the momentum: SGD's below, Adam's beta1 where optimizer is adam
    ('onecycle', dict(lr_scheduler='onecycle', max_lr=0.5, total_steps=12), 'OneCycleLR', dict(max_lr=0.5, total_steps=12)),
    ('onecycle_three_phase_linear_adam', dict(optimizer='adam', lr_scheduler='onecycle', max_lr=0.5, total_steps=12, pct_start=0.25, three_phase=True, anneal_strategy='linear', div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9), 'OneCycleLR', dict(max_lr=0.5, total_steps=12, pct_start=0.25, three_phase=True, anneal_strategy='linear', div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)),
    ('cyclic', dict(lr_scheduler='cyclic', base_lr=0.01, max_lr=0.1, step_size_up=3), 'CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=3)),
    ('cyclic_triangular2', dict(lr_scheduler='cyclic', base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=3, cyclic_mode='triangular2', cycle_momentum=False), 'CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=3, mode='triangular2', cycle_momentum=False)),
    ('cyclic_exp_range', dict(lr_scheduler='cyclic', base_lr=0.01, max_lr=0.1, step_size_up=2, cyclic_mode='exp_range', gamma=0.9, cycle_momentum=False), 'CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=2, mode='exp_range', gamma=0.9, cycle_momentum=False)),
    # schedulers: nested { type, args }, built on the same optimizer
    ('sequential', dict(lr_scheduler='sequential', milestones=[2, 5], schedulers=[dict(lr_scheduler='constant', factor=0.5, total_iters=2), dict(lr_scheduler='step', step_size=2, gamma=0.5), dict(lr_scheduler='cosine', t_max=7, lr_min=0.01)]),
     'SequentialLR', dict(milestones=[2, 5], schedulers=[dict(type='ConstantLR', args=dict(factor=0.5, total_iters=2)), dict(type='StepLR', args=dict(step_size=2, gamma=0.5)), dict(type='CosineAnnealingLR', args=dict(T_max=7, eta_min=0.01))])),
    ('chained', dict(lr_scheduler='chained', schedulers=[dict(lr_scheduler='linear', start_factor=0.2, total_iters=4), dict(lr_scheduler='multistep', milestones=[2, 5], gamma=0.5), dict(lr_scheduler='poly', total_iters=14, power=2.0)]),
     'ChainedScheduler', dict(schedulers=[dict(type='LinearLR', args=dict(start_factor=0.2, total_iters=4)), dict(type='MultiStepLR', args=dict(milestones=[2, 5], gamma=0.5)), dict(type='PolynomialLR', args=dict(total_iters=14, power=2.0))])),
]
# SGD's momentum over the epochs of the onecycle and cyclic cases (torch's default SGD momentum 0 is
# overwritten by the schedule); Adam's beta1 where the case's optimizer is adam


def trajectory(cls, args):
    w = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32))
    opt = getattr(torch.optim, cls)([w], **args)
    out = []
    for g in GRADS:
        w.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        out.append(w.detach().tolist())
    return out


def scheduler(opt, cls, args):
    args = dict(args)
    if cls == 'MultiplicativeLR':
        factor = args['lr_lambda']
        args['lr_lambda'] = lambda epoch: factor
    if cls == 'ChainedScheduler':
        return torch.optim.lr_scheduler.ChainedScheduler([scheduler(opt, s['type'], s['args']) for s in args['schedulers']])
    if 'schedulers' in args:
        args['schedulers'] = [scheduler(opt, s['type'], s['args']) for s in args['schedulers']]
    return getattr(torch.optim.lr_scheduler, cls)(opt, **args)


def schedule(options, cls, args):
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([w], lr=BASE_LR) if options.get('optimizer') == 'adam' else torch.optim.SGD([w], lr=BASE_LR)
    sched = scheduler(opt, cls, args)
    lrs, momentums = [], []
    for _ in range(EPOCHS):
        g = opt.param_groups[0]
        lrs.append(g['lr'])
        momentums.append(g['betas'][0] if 'betas' in g else g['momentum'])
        opt.step()  # no gradient: nothing moves; keeps torch's step-order warning quiet
        sched.step()
    out = dict(lrs=lrs)
    if cls in ('OneCycleLR', 'CyclicLR') and args.get('cycle_momentum', True):
        out['momentums'] = momentums
    return out


# One SGD trajectory under OneCycleLR stepped per epoch (one gradient step per epoch): the cycled
# momentum reaches the update.
CYCLED = ('sgd_onecycle', dict(optimizer='sgd', lr=0.1, nesterov=True, weight_decay=0.01, lr_scheduler='onecycle', max_lr=0.2, total_steps=8),
          'SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), 'OneCycleLR', dict(max_lr=0.2, total_steps=8))


def cycled_trajectory():
    _, _, cls, args, scls, sargs = CYCLED
    w = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32))
    opt = getattr(torch.optim, cls)([w], **args)
    sched = getattr(torch.optim.lr_scheduler, scls)(opt, **sargs)
    out = []
    for g in GRADS:
        w.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        sched.step()
        out.append(w.detach().tolist())
    return out


def main():
    data = {
        'torch': torch.__version__,
        'w0': W0,
        'grads': GRADS,
        'optimizers': [dict(name=n, options=o, torch=dict(type=c, args={k: v for k, v in a.items() if k != 'foreach'}), trajectory=trajectory(c, a)) for n, o, c, a in OPTIMIZERS],
        'lr': BASE_LR,
        'schedules': [dict(name=n, options=o, torch=dict(type=c, args=a), **schedule(o, c, a)) for n, o, c, a in SCHEDULES],
        'cycled': dict(name=CYCLED[0], options=CYCLED[1], torch=dict(type=CYCLED[2], args=CYCLED[3], lr_scheduler=dict(type=CYCLED[4], args=CYCLED[5])), trajectory=cycled_trajectory()),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'torch-reference.json')
    with open(path, 'w') as f:
        f.write(dumps(data) + '\n')


def dumps(v, depth=0):
    """JSON with one line per case and per list of numbers (a diff shows which numbers moved)."""
    pad = ' ' * (depth + 1)
    if isinstance(v, dict) and depth < 2:
        return '{\n' + ',\n'.join(pad + json.dumps(k) + ': ' + dumps(x, depth + 1) for k, x in v.items()) + '\n' + ' ' * depth + '}'
    if isinstance(v, list) and v and isinstance(v[0], (dict, list)):
        return '[\n' + ',\n'.join(pad + dumps(x, depth + 1) for x in v) + '\n' + ' ' * depth + ']'
    return json.dumps(v)


if __name__ == '__main__':
    main()
