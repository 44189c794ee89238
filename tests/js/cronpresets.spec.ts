import {
  DEFAULT_PRESET,
  IPresetValues,
  PRESETS,
  presetCron,
  readPreset,
  readTime,
  relativeTime,
  timeText,
  zonedTime
} from '../../js_src/cronpresets';

describe('the time of day', () => {
  it('is read as 24-hour HH:MM, the clock of the schedule sentence', () => {
    expect(readTime('21:30')).toEqual({ hour: 21, minute: 30 });
    expect(readTime(' 9:05 ')).toEqual({ hour: 9, minute: 5 });
    expect(readTime('00:00')).toEqual({ hour: 0, minute: 0 });
    for (const text of ['9pm', '9:30 PM', '24:00', '12:60', '', '930']) {
      expect(readTime(text)).toBeNull();
    }
    expect(timeText(21, 5)).toBe('21:05');
  });
});

describe('schedule presets', () => {
  const at = (values: Partial<IPresetValues>): IPresetValues => ({
    ...DEFAULT_PRESET,
    ...values
  });

  it('writes the cron of each preset', () => {
    const values = { minute: 5, hour: 9, weekday: 4, day: 15 };
    expect(
      PRESETS.map(p => presetCron(at({ ...values, preset: p.name })))
    ).toEqual([
      '5 * * * *',
      '5 9 * * *',
      '5 9 * * 1-5',
      '5 9 * * 4',
      '5 9 15 * *',
      null
    ]);
  });

  it('reads back every cron a preset writes', () => {
    for (const { name } of PRESETS.filter(p => p.name !== 'custom')) {
      const values = at({
        preset: name,
        minute: 30,
        hour: 7,
        weekday: 0,
        day: 28
      });
      const read = readPreset(presetCron(values)!);
      expect(presetCron(read)).toBe(presetCron(values));
      expect(read.preset).toBe(name);
    }
  });

  it('calls anything else a custom cron, keeping the last values', () => {
    const last = at({ preset: 'weekly', hour: 6, weekday: 2 });
    for (const cron of [
      '*/15 * * * *',
      '0 9 * * 1-3',
      '0 9 29 * *',
      '0 24 * * *',
      'every day'
    ]) {
      expect(readPreset(cron, last)).toEqual({ ...last, preset: 'custom' });
    }
    expect(readPreset('  0   9 * *  1-5 ').preset).toBe('weekdays');
  });

  it('shows times in the schedule time zone', () => {
    const epoch = Date.UTC(2026, 11, 3, 8, 0) / 1000; // Thu 3 Dec 2026 08:00 UTC
    expect(zonedTime(epoch, 'Europe/Paris')).toBe('Thu 3 Dec 09:00');
    expect(zonedTime(epoch, 'UTC')).toBe('Thu 3 Dec 08:00');
    expect(zonedTime(epoch, 'America/New_York')).toBe('Thu 3 Dec 03:00');
  });

  it('says how far a time is', () => {
    expect(relativeTime(1000 + 300, 1000)).toBe('in 5 min');
    expect(relativeTime(1000 - 7200, 1000)).toBe('2 h ago');
    expect(relativeTime(1000 + 3 * 86400, 1000)).toBe('in 3 d');
    expect(relativeTime(1010, 1000)).toBe('due now');
    expect(relativeTime(990, 1000)).toBe('just now');
  });
});
