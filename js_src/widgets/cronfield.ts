/**
 * The "when" of the schedule form: a preset (every hour, day, weekday,
 * week, month) with its time and day, or a custom cron; the cron field
 * always shows what will be saved, and below it the server's reading of it
 * in plain words with the next runs (GET schedules/preview: the scheduler's
 * own next_run, so what is shown is what fires).
 */
import { Debouncer } from '@lumino/polling';

import { ISchedulePreview } from '../api';

import {
  DEFAULT_PRESET,
  IPresetValues,
  PRESETS,
  PresetName,
  WEEKDAYS,
  presetCron,
  readPreset,
  readTime,
  timeText,
  zonedTime
} from '../cronpresets';

import { disposeTimer } from '../polling';

import { h } from './dom';

import { RowFactory } from './formproblems';

export type PreviewSource = (
  cron: string,
  timezone: string
) => Promise<ISchedulePreview>;

/** How long typing pauses before the cron is read by the server. */
const PREVIEW_DELAY_MS = 250;

export class CronField {
  /** The rows, in order: preset, time, minute, weekday, day, cron. */
  readonly rows: HTMLElement[];
  /** The cron that is saved (name `cron`, as the server's field). */
  readonly cron: HTMLInputElement;
  /** The plain-words reading and next runs, under the time zone. */
  readonly preview: HTMLElement;

  constructor(
    initial: string,
    row: RowFactory,
    private readonly _changed: () => void,
    private readonly _source: PreviewSource | null
  ) {
    this._values = readPreset(initial, DEFAULT_PRESET);
    const control = <T extends HTMLElement>(node: T): T => {
      node.classList.add('jp-mod-styled');
      node.addEventListener('input', () => this._fromControls());
      node.addEventListener('change', () => this._fromControls());
      return node;
    };
    this._preset = control(
      h(
        'select',
        { attrs: { name: 'preset' } },
        PRESETS.map(p =>
          h('option', { text: p.label, attrs: { value: p.name } })
        )
      )
    );
    // Text, not type="time": the browser's time box shows a 12-hour clock in
    // some locales, while the schedule's sentence says 09:00 or 21:30.
    this._time = control(
      h('input', {
        attrs: {
          name: 'at',
          type: 'text',
          inputmode: 'numeric',
          placeholder: 'HH:MM, 24-hour',
          maxlength: '5',
          spellcheck: 'false',
          autocomplete: 'off'
        }
      })
    );
    this._minute = control(
      h('input', {
        attrs: { name: 'minute', type: 'number', min: '0', max: '59' }
      })
    );
    this._weekday = control(
      h(
        'select',
        { attrs: { name: 'weekday' } },
        WEEKDAYS.map((day, index) =>
          h('option', { text: day, attrs: { value: String(index) } })
        )
      )
    );
    this._day = control(
      h('input', {
        attrs: { name: 'day', type: 'number', min: '1', max: '28' }
      })
    );
    this.cron = h('input', {
      class: 'jp-mod-styled jp-ContainerJob-cronInput',
      attrs: {
        name: 'cron',
        type: 'text',
        placeholder: '0 3 * * *',
        spellcheck: 'false'
      },
      on: { input: () => this._fromCron() }
    });
    this.cron.value = initial;
    this.preview = h('p', {
      class: 'jp-ContainerJob-cronPreview',
      attrs: { 'aria-live': 'polite', 'data-field': 'cron-preview' }
    });
    this.preview.hidden = true;
    this._rows = {
      preset: row(
        'Repeat',
        this._preset,
        'How often the notebook runs',
        'preset'
      ),
      time: row('At', this._time, 'Time of day, in the time zone below', 'at'),
      minute: row(
        'Minute',
        this._minute,
        'Minutes past each hour, 0 to 59',
        'minute'
      ),
      weekday: row('On', this._weekday, 'Day of the week', 'weekday'),
      day: row(
        'Day of month',
        this._day,
        'Day of the month, 1 to 28 (every month has it)',
        'day'
      ),
      cron: row(
        'Cron',
        this.cron,
        'minute hour day month weekday: what is saved; a preset writes it, or type your own',
        'cron'
      )
    };
    this.rows = Object.values(this._rows);
    this._showControls();
  }

  /**
   * Read the cron in `timezone` after a pause in typing: the words and the
   * next runs show under the field; a cron the server refuses shows
   * nothing here (the form names the problem at the Cron field).
   */
  showPreview(timezone: string): void {
    const cron = this.cron.value.trim();
    const key = `${cron}\n${timezone}`;
    if (!this._source || key === this._shownKey || this._preview.isDisposed) {
      return;
    }
    this._shownKey = key;
    void this._preview.invoke(cron, timezone, ++this._round);
  }

  dispose(): void {
    disposeTimer(this._preview);
    this._round++;
  }

  /** Ask the server; only the latest round's answer shows. */
  private _showPreview(cron: string, timezone: string, round: number): void {
    const done = (text: string): void => {
      if (round === this._round) {
        this.preview.textContent = text;
        this.preview.hidden = !text;
      }
    };
    if (!cron) {
      done('');
      return;
    }
    this._source!(cron, timezone || 'UTC').then(
      shown => done(previewText(shown)),
      () => done('')
    );
  }

  /** A preset control changed: write its cron. */
  private _fromControls(): void {
    const time = readTime(this._time.value);
    const usesTime = !['hourly', 'custom'].includes(this._preset.value);
    this._time.setAttribute('aria-invalid', String(usesTime && !time));
    this._time.title =
      usesTime && !time
        ? `${this._time.value.trim() || 'An empty time'} is no 24-hour time: write HH:MM, e.g. 09:00 or 21:30`
        : '';
    this._values = {
      preset: this._preset.value as PresetName,
      hour: time?.hour ?? this._values.hour,
      minute:
        this._preset.value === 'hourly'
          ? clamp(Number(this._minute.value), 0, 59, this._values.minute)
          : (time?.minute ?? this._values.minute),
      weekday: Number(this._weekday.value),
      day: clamp(Number(this._day.value), 1, 28, this._values.day)
    };
    const cron = presetCron(this._values);
    if (cron !== null) {
      this.cron.value = cron;
    }
    this._showRows();
    this._changed();
  }

  /** The cron was typed: the preset that writes it, else Custom. */
  private _fromCron(): void {
    this._values = readPreset(this.cron.value, this._values);
    this._showControls();
    this._changed();
  }

  /** Every control as the values say (not while one is typed in). */
  private _showControls(): void {
    const { preset, hour, minute, weekday, day } = this._values;
    this._preset.value = preset;
    this._time.value = timeText(hour, minute);
    this._minute.value = String(minute);
    this._weekday.value = String(weekday);
    this._day.value = String(day);
    this._showRows();
  }

  /** The rows the preset uses. */
  private _showRows(): void {
    const preset = this._values.preset;
    this._rows.time.hidden = preset === 'hourly' || preset === 'custom';
    this._rows.minute.hidden = preset !== 'hourly';
    this._rows.weekday.hidden = preset !== 'weekly';
    this._rows.day.hidden = preset !== 'monthly';
  }

  private _values: IPresetValues;
  private _preset: HTMLSelectElement;
  private _time: HTMLInputElement;
  private _minute: HTMLInputElement;
  private _weekday: HTMLSelectElement;
  private _day: HTMLInputElement;
  private _rows: Record<
    'preset' | 'time' | 'minute' | 'weekday' | 'day' | 'cron',
    HTMLElement
  >;
  private _shownKey = '';
  private _round = 0;
  private _preview = new Debouncer(
    (cron: string, timezone: string, round: number) =>
      this._showPreview(cron, timezone, round),
    PREVIEW_DELAY_MS
  );
}

/** "At 09:00, Monday through Friday (Europe/Paris); next: Thu 3 Dec 09:00, …". */
export function previewText(shown: ISchedulePreview): string {
  const next = shown.next_runs.map(at => zonedTime(at, shown.timezone));
  return `${shown.description} (${shown.timezone}); next: ${next.join(', ')}`;
}

function clamp(
  value: number,
  low: number,
  high: number,
  other: number
): number {
  return isFinite(value) && value >= low && value <= high
    ? Math.round(value)
    : other;
}
