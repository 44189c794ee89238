/**
 * The schedule part of the launch form: name, when (CronField), time zone,
 * what happens to missed runs, and how many runs may overlap. Values are
 * returned as typed: the server names what it refuses, next to the field.
 */
import { CronField, PreviewSource } from './cronfield';

import { h } from './dom';

import { RowFactory } from './formproblems';

/** What the schedule fields collect (as the server's schedule fields). */
export interface IScheduleValues {
  name: string;
  cron: string;
  timezone: string;
  missed: 'skip' | 'run_once';
  /** As typed: the server names anything but a whole number 1..100. */
  max_concurrent: string;
}

export class ScheduleFields {
  /** The rows, in order, for the form to append. */
  readonly rows: HTMLElement[];

  constructor(
    initial: Partial<IScheduleValues>,
    row: RowFactory,
    changed: () => void,
    preview: PreviewSource | null
  ) {
    const input = (
      name: string,
      value: string,
      placeholder: string
    ): HTMLInputElement => {
      const node = h('input', {
        class: 'jp-mod-styled',
        attrs: { name, type: 'text', placeholder, spellcheck: 'false' },
        on: { input: changed }
      });
      node.value = value;
      this._controls.set(name, node);
      return node;
    };
    const missed = h(
      'select',
      {
        class: 'jp-mod-styled',
        attrs: { name: 'missed' },
        on: { change: changed }
      },
      [
        h('option', { text: 'Skip missed runs', attrs: { value: 'skip' } }),
        h('option', {
          text: 'Run once to catch up',
          attrs: { value: 'run_once' }
        })
      ]
    );
    missed.value = initial.missed ?? 'skip';
    this._controls.set('missed', missed);
    this._cron = new CronField(
      initial.cron ?? '0 3 * * *',
      row,
      changed,
      preview
    );
    this._controls.set('cron', this._cron.cron);
    this.rows = [
      row(
        'Name',
        input('name', initial.name ?? '', 'nightly report'),
        'Name of the schedule',
        'name'
      ),
      ...this._cron.rows,
      row(
        'Time zone',
        input('timezone', initial.timezone ?? localTimeZone(), 'UTC'),
        'IANA time zone the cron is read in',
        'timezone'
      ),
      this._cron.preview,
      row(
        'Missed runs',
        missed,
        'What happens to runs missed while the server was down',
        'missed'
      ),
      row(
        'Max concurrent',
        input('max_concurrent', initial.max_concurrent ?? '1', '1'),
        'Runs of this schedule allowed at once: a whole number from 1 to 100',
        'max_concurrent'
      )
    ];
  }

  /** The values as typed (trimmed). */
  get values(): IScheduleValues {
    const text = (name: string): string =>
      (this._controls.get(name)?.value ?? '').trim();
    return {
      name: text('name'),
      cron: text('cron'),
      timezone: text('timezone'),
      missed: text('missed') === 'run_once' ? 'run_once' : 'skip',
      max_concurrent: text('max_concurrent')
    };
  }

  /** Read the cron in words again, in the time zone typed now. */
  showPreview(): void {
    this._cron.showPreview(this.values.timezone);
  }

  dispose(): void {
    this._cron.dispose();
  }

  private _cron: CronField;
  private _controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
}

function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
