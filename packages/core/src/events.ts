/**
 * The event bus that drives callbacks. Handlers run in priority order (higher first), awaited one
 * by one on the caller's own flow: no threads, no condition variables, no deadlocks.
 */
export interface EventMap {
  'run:begin': { name: string; outputDir: string };
  'run:end': { name: string; outputDir: string; results: Record<string, unknown> };
  /** stop: ends this estimator after its current epoch or candidate, as if it had finished (early stopping); the run goes on. */
  'estim:begin': { estim: string; type: string; stop?: (reason: string) => void };
  'estim:end': { estim: string; type: string; best?: unknown };
  'epoch:begin': { estim: string; epoch: number; epochs: number };
  /** alpha: the values the store's 'alpha' stream gets (absent without a tensor-driven mixed op). */
  'epoch:end': { estim: string; epoch: number; epochs: number; metrics: Record<string, number>; alpha?: AlphaProbs[] };
  'step:end': { estim: string; epoch: number; step: number; steps: number; metrics: Record<string, number> };
  /** index: the candidate's number in its estimator, from 0 (its record's `index` in the store's 'candidates', the dashboard's trial index + 1). */
  'candidate:end': { estim: string; index: number; arch: Record<string, unknown>; score: number; metrics: Record<string, number> };
  'arch:update': { estim: string; step: number };
  'export': { estim: string; file: string };
}

/** softmax(α) of one categorical arch param driven by a tensor (a mixed op's), after an epoch. */
export interface AlphaProbs {
  param: string;
  candidates: string[];
  probs: number[];
}

export type EventName = keyof EventMap;
export type Handler<E extends EventName> = (payload: EventMap[E]) => void | Promise<void>;

interface Entry {
  handler: Handler<EventName>;
  priority: number;
}

export class EventBus {
  private readonly handlers = new Map<EventName, Entry[]>();

  /** Subscribe; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: Handler<E>, priority = 0): () => void {
    const list = this.handlers.get(event) ?? [];
    const entry: Entry = { handler: handler as Handler<EventName>, priority };
    list.push(entry);
    list.sort((a, b) => b.priority - a.priority);
    this.handlers.set(event, list);
    return () => {
      const l = this.handlers.get(event);
      if (l) this.handlers.set(event, l.filter((e) => e !== entry));
    };
  }

  async emit<E extends EventName>(event: E, payload: EventMap[E]): Promise<void> {
    for (const { handler } of [...(this.handlers.get(event) ?? [])]) await handler(payload);
  }
}
