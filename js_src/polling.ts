/**
 * Every timer of the UI is a `Poll`, `Debouncer` or `Throttler` of
 * @lumino/polling; these helpers are the two things they leave to us.
 *
 * - The pace of an owner-paced poll (the job list, a log tail) is worked
 *   out by its owner each round (faster while something moves, backing off
 *   while nothing does, see model.ts `nextDelay`), so such a poll has no
 *   backoff of its own: {@link tickIn} sets its next tick, and standing by in
 *   a hidden tab it keeps that pace.
 * - A poll's `dispose()` leaves its pending tick's `setTimeout` in place until
 *   it fires; `stop()` clears it at once. {@link disposeTimer} does both, so
 *   no timer outlives the widget that owned it.
 */
import { Poll } from '@lumino/polling';

/** A poll or rate limiter: something with a pending tick to clear. */
export interface IStoppable {
  stop(): Promise<void>;
  dispose(): void;
}

/** Clear the pending tick now, then dispose. */
export function disposeTimer(timer: IStoppable): void {
  void timer.stop();
  timer.dispose();
}

/**
 * A poll that runs `factory` when {@link tickIn} says, and stands by while
 * the browser tab is hidden (no request from a tab nobody looks at).
 */
export function pacedPoll(name: string, factory: () => Promise<void>): Poll {
  return new Poll({
    auto: false,
    factory,
    name: `containerjob:${name}`,
    standby: 'when-hidden',
    frequency: { backoff: false, interval: 1000, max: Poll.MAX_INTERVAL }
  });
}

/**
 * Tick `poll` in `ms` (replacing a pending tick); `Poll.NEVER`: no tick until
 * asked again.
 */
export function tickIn(poll: Poll, ms: number): void {
  if (ms === Poll.NEVER) {
    void poll.stop();
    return;
  }
  poll.frequency = { ...poll.frequency, interval: ms };
  void poll.schedule({ interval: ms, phase: 'resolved' });
}

/** Whether `poll` has a tick scheduled (or running). */
export function isTicking(poll: Poll): boolean {
  return poll.state.interval !== Poll.NEVER && !poll.isDisposed;
}
