import { ModnasError } from './errors.js';
import { tf } from './tf.js';

/**
 * The network building block: a tree of modules that own weights (trainable params) and
 * buffers (e.g. batch-norm running statistics), in the manner of PyTorch's nn.Module. NAS needs
 * to rewrite networks after they are built (Slots filled by constructors, mixed ops choosing
 * paths at run time), which an imperative module tree allows and a static layer graph does not.
 */
export abstract class Module {
  /** Training mode: batch norm uses batch statistics, mixed ops sample paths. */
  training = true;
  private readonly modulesMap = new Map<string, Module>();
  private readonly paramsMap = new Map<string, tf.Variable>();
  private readonly buffersMap = new Map<string, tf.Variable>();

  abstract forward(x: tf.Tensor): tf.Tensor;

  /**
   * Run the module; subclasses override `forward`. Inside a tidy: the module's intermediate
   * tensors are freed as soon as it returns (what backprop needs, tfjs keeps on its tape), so a
   * forward pass holds one module's temporaries at a time instead of the whole network's.
   */
  call(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.forward(x));
  }

  /** Register (or replace) a child module under `name`. Returns it, for `this.conv = this.addModule(...)`. */
  addModule<M extends Module>(name: string, module: M): M {
    this.modulesMap.set(name, module);
    return module;
  }

  getModule(name: string): Module | undefined {
    return this.modulesMap.get(name);
  }

  /** Register a trainable weight initialised from `init` (the module keeps `init`). */
  protected addParam(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, true);
    init.dispose();
    this.paramsMap.set(name, v);
    return v;
  }

  /** Register a non-trainable state tensor (running statistics and the like). */
  protected addBuffer(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, false);
    init.dispose();
    this.buffersMap.set(name, v);
    return v;
  }

  children(): Array<[string, Module]> {
    return [...this.modulesMap.entries()];
  }

  /** Every module in the tree, pre-order, with its dotted path ('' for this one). */
  *modules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.modulesMap) yield* m.modules(prefix ? `${prefix}.${name}` : name);
  }

  namedParameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [path, m] of this.modules()) for (const [n, v] of m.paramsMap) out.push([path ? `${path}.${n}` : n, v]);
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  namedBuffers(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [path, m] of this.modules()) for (const [n, v] of m.buffersMap) out.push([path ? `${path}.${n}` : n, v]);
    return out;
  }

  /** Number of trainable weights (elements). */
  numParams(): number {
    return this.parameters().reduce((acc, v) => acc + v.size, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Weights and buffers by path, for checkpoints and for handing weights to another engine. */
  stateDict(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copy tensors into the weights and buffers with the same paths; missing or mis-shaped ones are an error. */
  loadStateDict(state: Map<string, tf.Tensor> | Record<string, tf.Tensor>, { strict = true } = {}): void {
    const src = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    if (strict && missing.length > 0) {
      throw new ModnasError('MODNAS_E_STATE_MISSING', `state dict lacks ${missing.length} entries: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`, {
        fix: 'load a checkpoint of the same architecture, or pass { strict: false }',
      });
    }
    for (const [k, v] of own) {
      const t = src.get(k);
      if (!t) continue;
      if (t.shape.join('x') !== v.shape.join('x')) {
        throw new ModnasError('MODNAS_E_STATE_SHAPE', `state "${k}": shape [${t.shape}] does not match [${v.shape}]`);
      }
      v.assign(t);
    }
  }

  /** Free every weight and buffer of the tree. */
  dispose(): void {
    for (const [, m] of this.modules()) {
      for (const v of m.paramsMap.values()) v.dispose();
      for (const v of m.buffersMap.values()) v.dispose();
      m.paramsMap.clear();
      m.buffersMap.clear();
    }
  }

  /** One line describing this module's own settings (shown by toString). */
  describe(): string {
    return '';
  }

  toString(indent = ''): string {
    const head = `${this.constructor.name}(${this.describe()})`;
    const kids = this.children();
    if (kids.length === 0) return head;
    const inner = kids.map(([n, m]) => `${indent}  (${n}): ${m.toString(`${indent}  `)}`).join('\n');
    return `${head} {\n${inner}\n${indent}}`;
  }
}

/** Children run in order. */
export class Sequential extends Module {
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m, i) => this.addModule(String(i), m));
  }

  push(m: Module): this {
    this.addModule(String(this.children().length), m);
    return this;
  }

  get length(): number {
    return this.children().length;
  }

  at(i: number): Module {
    const m = this.getModule(String(i));
    if (!m) throw new ModnasError('MODNAS_E_MODULE_INDEX', `Sequential has no module at ${i}`);
    return m;
  }

  forward(x: tf.Tensor): tf.Tensor {
    let y = x;
    for (const [, m] of this.children()) y = m.call(y);
    return y;
  }
}

export interface SlotOptions {
  /** Input channels. */
  chnIn: number;
  /** Output channels (default: chnIn). */
  chnOut?: number;
  /** Stride (default 1). */
  stride?: number;
  /** Any further arguments a constructor or primitive may use (e.g. expansion, kernel size). */
  [extra: string]: unknown;
}

/**
 * A placeholder for a searchable layer. Write `new Slot({ chnIn, chnOut, stride })` where a model
 * had a conv, and the model becomes a search space: a constructor fills each Slot with a concrete
 * op, a mixed op or a nested network. The Slot stays in the tree (its contents are `impl`), so
 * references held by the model keep working and exporters can find every Slot again.
 */
export class Slot extends Module {
  /**
   * The Slot spec a primitive or mixed op `id` was given, checked: chnIn, chnOut and stride positive
   * integers, else MODNAS_E_PRIMITIVE_ARGS naming the op (what every primitive's create() checks first).
   */
  static checkSpec<S extends { chnIn: number; chnOut: number; stride: number }>(id: string, spec: S | undefined): S {
    if (!spec || ![spec.chnIn, spec.chnOut, spec.stride].every((v) => Number.isInteger(v) && v > 0)) {
      throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `${id} needs a Slot spec { chnIn, chnOut, stride } of positive integers, got ${JSON.stringify(spec)}`, {
        fix: 'build primitives through a constructor (which passes the Slot), or pass { chnIn, chnOut, stride } as the input',
      });
    }
    return spec;
  }

  readonly chnIn: number;
  readonly chnOut: number;
  readonly stride: number;
  /** Extra arguments given at creation. */
  readonly args: Readonly<Record<string, unknown>>;

  constructor(opts: SlotOptions) {
    super();
    const { chnIn, chnOut, stride, ...args } = opts;
    if (!Number.isInteger(chnIn) || chnIn <= 0) throw new ModnasError('MODNAS_E_SLOT_ARGS', `Slot: chnIn must be a positive integer, got ${String(chnIn)}`);
    this.chnIn = chnIn;
    this.chnOut = chnOut ?? chnIn;
    this.stride = stride ?? 1;
    this.args = args;
  }

  get impl(): Module | undefined {
    return this.getModule('impl');
  }

  get filled(): boolean {
    return this.impl !== undefined;
  }

  /** Put a module in the Slot (replacing what was there; the old one is returned, not disposed). */
  fill(module: Module): Module | undefined {
    const old = this.impl;
    this.addModule('impl', module);
    module.train(this.training);
    return old;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const impl = this.impl;
    if (!impl) {
      throw new ModnasError('MODNAS_E_SLOT_EMPTY', `a Slot (chnIn=${this.chnIn}, chnOut=${this.chnOut}, stride=${this.stride}) was run before any constructor filled it`, {
        fix: 'add a constructor to the config (e.g. construct: [{ type: DefaultMixedOpConstructor, ... }]) or fill the Slot by hand',
      });
    }
    return impl.call(x);
  }

  override describe(): string {
    return `chnIn=${this.chnIn}, chnOut=${this.chnOut}, stride=${this.stride}`;
  }

  /** The Slots of a network in traversal order, with their paths: the order arch descriptions use. */
  static find(model: Module, { nested = false }: { nested?: boolean } = {}): Array<[string, Slot]> {
    const out: Array<[string, Slot]> = [];
    const visit = (m: Module, path: string, insideSlot: boolean): void => {
      if (m instanceof Slot) {
        if (!insideSlot || nested) out.push([path, m]);
        insideSlot = true;
      }
      for (const [n, c] of m.children()) visit(c, path ? `${path}.${n}` : n, insideSlot);
    };
    visit(model, '', false);
    return out;
  }
}
