/**
 * The schedule form's presets: each writes a cron from a few choices (a
 * time, a weekday, a day of the month), and a cron that one of them would
 * write is read back into it. Only strings are made here: what a cron
 * means and when it fires is the server's (GET schedules/preview).
 */

export type PresetName =
  'hourly' | 'daily' | 'weekdays' | 'weekly' | 'monthly' | 'custom';

export interface IPresetValues {
  preset: PresetName;
  /** Minute past the hour, 0-59. */
  minute: number;
  /** Hour, 0-23 (not used hourly). */
  hour: number;
  /** Day of the week, 0 (Sunday) to 6 (weekly). */
  weekday: number;
  /** Day of the month, 1-28 (monthly: every month has it). */
  day: number;
}

export const PRESETS: ReadonlyArray<{ name: PresetName; label: string }> = [
  { name: 'hourly', label: 'Every hour' },
  { name: 'daily', label: 'Every day' },
  { name: 'weekdays', label: 'Every weekday (Mon-Fri)' },
  { name: 'weekly', label: 'Every week' },
  { name: 'monthly', label: 'Every month' },
  { name: 'custom', label: 'Custom cron' }
];

export const WEEKDAYS = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday'
];

export const DEFAULT_PRESET: IPresetValues = {
  preset: 'daily',
  minute: 0,
  hour: 3,
  weekday: 1,
  day: 1
};

/** The cron a preset writes; `null` for a custom cron (typed as it is). */
export function presetCron(values: IPresetValues): string | null {
  const { minute, hour, weekday, day } = values;
  switch (values.preset) {
    case 'hourly':
      return `${minute} * * * *`;
    case 'daily':
      return `${minute} ${hour} * * *`;
    case 'weekdays':
      return `${minute} ${hour} * * 1-5`;
    case 'weekly':
      return `${minute} ${hour} * * ${weekday}`;
    case 'monthly':
      return `${minute} ${hour} ${day} * *`;
    default:
      return null;
  }
}

const NUMBER = '(\\d{1,2})';

const SHAPES: ReadonlyArray<{ preset: PresetName; pattern: RegExp }> = [
  { preset: 'hourly', pattern: new RegExp(`^${NUMBER} \\* \\* \\* \\*$`) },
  {
    preset: 'daily',
    pattern: new RegExp(`^${NUMBER} ${NUMBER} \\* \\* \\*$`)
  },
  {
    preset: 'weekdays',
    pattern: new RegExp(`^${NUMBER} ${NUMBER} \\* \\* 1-5$`)
  },
  {
    preset: 'weekly',
    pattern: new RegExp(`^${NUMBER} ${NUMBER} \\* \\* ([0-6])$`)
  },
  {
    preset: 'monthly',
    pattern: new RegExp(`^${NUMBER} ${NUMBER} ${NUMBER} \\* \\*$`)
  }
];

/**
 * The preset that writes `cron` exactly, with its values; else `custom`
 * (keeping `fallback`'s values for when the user picks a preset again).
 */
export function readPreset(
  cron: string,
  fallback: IPresetValues = DEFAULT_PRESET
): IPresetValues {
  const text = cron.trim().split(/\s+/).join(' ');
  for (const { preset, pattern } of SHAPES) {
    const match = pattern.exec(text);
    if (!match) {
      continue;
    }
    const [minute, hour, third] = match.slice(1).map(Number);
    const values: IPresetValues = {
      preset,
      minute,
      hour: preset === 'hourly' ? fallback.hour : hour,
      weekday: preset === 'weekly' ? third : fallback.weekday,
      day: preset === 'monthly' ? third : fallback.day
    };
    if (inRange(values)) {
      return values;
    }
  }
  return { ...fallback, preset: 'custom' };
}

function inRange(values: IPresetValues): boolean {
  return (
    values.minute <= 59 &&
    values.hour <= 23 &&
    values.day >= 1 &&
    values.day <= 28
  );
}

/** `09:05` for hour 9, minute 5. */
export function timeText(hour: number, minute: number): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

/**
 * A time of day typed as 24-hour `HH:MM` (`9:05` too), the clock the
 * schedule's sentence uses; `null` for anything else (`9pm`, `24:00`).
 */
export function readTime(
  text: string
): { hour: number; minute: number } | null {
  const match = /^\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) {
    return null;
  }
  const [hour, minute] = [Number(match[1]), Number(match[2])];
  return hour <= 23 && minute <= 59 ? { hour, minute } : null;
}

/**
 * Epoch seconds as a short date and time in `timezone` ("Thu 3 Dec 09:00"),
 * the zone the schedule's cron is read in (none: the browser's).
 */
export function zonedTime(epoch: number, timezone?: string): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23'
  };
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      ...options,
      timeZone: timezone
    }).formatToParts(new Date(epoch * 1000));
  } catch {
    parts = new Intl.DateTimeFormat('en-GB', options).formatToParts(
      new Date(epoch * 1000)
    );
  }
  const part = (type: string): string =>
    parts.find(p => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('hour')}:${part('minute')}`;
}

/** How far `epoch` is from `now` (seconds): "in 5 min", "2 h ago", "now". */
export function relativeTime(epoch: number, now: number): string {
  const delta = epoch - now;
  const size = Math.abs(delta);
  let text: string;
  if (size < 45) {
    return delta >= 0 ? 'due now' : 'just now';
  } else if (size < 3600) {
    text = `${Math.round(size / 60)} min`;
  } else if (size < 86400) {
    text = `${Math.round(size / 3600)} h`;
  } else {
    text = `${Math.round(size / 86400)} d`;
  }
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}
