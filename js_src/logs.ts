import { IDisposable } from '@lumino/disposable';

import { Poll } from '@lumino/polling';

import { ISignal, Signal } from '@lumino/signaling';

import { ContainerJobAPI, describeError } from './api';

import { DEFAULT_BACKOFF, IBackoff, nextDelay } from './model';

import { disposeTimer, pacedPoll, tickIn } from './polling';

/**
 * A job's logs, followed with `GET jobs/{id}/logs?since=N` while `active`.
 *
 * Each round asks only for what comes after the bytes already seen; it
 * polls at `min` while text arrives, slower while the job is quiet, and stops
 * for good once the server says `done` (job final, everything sent). In a
 * hidden browser tab the tail stands by.
 */
export class LogStream implements IDisposable {
  constructor(
    readonly api: ContainerJobAPI,
    readonly jobId: string,
    backoff: Partial<IBackoff> = {}
  ) {
    this._backoff = { ...DEFAULT_BACKOFF, max: 10000, ...backoff };
    this._delay = this._backoff.min;
  }

  /** New text, in order, once per chunk that had any. */
  get appended(): ISignal<this, string> {
    return this._appended;
  }

  /** Emitted when `done` or `error` changes. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** Byte offset to ask for next (the server's last `next`). */
  get next(): number {
    return this._next;
  }

  get done(): boolean {
    return this._done;
  }

  get error(): string | null {
    return this._error;
  }

  get active(): boolean {
    return this._active;
  }

  /** Follow while the view is shown; pause when it is hidden. */
  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    if (value) {
      this.poke();
    } else {
      tickIn(this._ticker, Poll.NEVER);
    }
  }

  /** Ask again now (e.g. the job changed status), restarting the backoff. */
  poke(): void {
    this._delay = this._backoff.min;
    if (!this._busy) {
      void this._round();
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    disposeTimer(this._ticker);
    Signal.clearData(this);
  }

  private async _round(): Promise<void> {
    tickIn(this._ticker, Poll.NEVER);
    if (this._done || !this._active || this._disposed) {
      return;
    }
    this._busy = true;
    let received = false;
    let error: string | null = null;
    try {
      const chunk = await this.api.logs(this.jobId, this._next);
      if (this._disposed) {
        return;
      }
      if (chunk.text) {
        received = true;
        this._next = chunk.next;
        this._appended.emit(chunk.text);
      } else {
        this._next = Math.max(this._next, chunk.next);
      }
      if (chunk.done) {
        this._done = true;
      }
    } catch (reason) {
      error = describeError(reason);
    } finally {
      this._busy = false;
    }
    if (error !== this._error || this._done) {
      this._error = error;
      this._stateChanged.emit();
    }
    this._delay = nextDelay(this._delay, received, this._backoff);
    if (!this._done && this._active && !this._disposed) {
      tickIn(this._ticker, this._delay);
    }
  }

  private _backoff: IBackoff;
  private _delay: number;
  private _next = 0;
  private _done = false;
  private _error: string | null = null;
  private _active = false;
  private _busy = false;
  private _disposed = false;
  private _ticker = pacedPoll(`logs of ${this.jobId}`, () => this._round());
  private _appended = new Signal<this, string>(this);
  private _stateChanged = new Signal<this, void>(this);
}
