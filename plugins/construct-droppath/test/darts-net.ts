import { Slot } from '@modnas/core';
import { DARTSNet } from '@modnas/backbone-darts';
import { Conv2d, Identity } from '@modnas/nn';

/** A DARTS cell network (3 cells, 2 nodes each: 5 edges per cell) with its edges filled by hand: 1x1 convs, and the identity on every other stride-1 edge. */
export function darts(): DARTSNet {
  const net = new DARTSNet({ chn: 4, layers: 3, nNodes: 2, numClasses: 10 });
  Slot.find(net).forEach(([, s], i) => s.fill(s.stride === 1 && i % 2 === 0 ? new Identity() : new Conv2d(s.chnIn, s.chnOut, { kernelSize: 1, stride: s.stride })));
  return net;
}

