import { groupBySweep, sweepOf, sweepSummary } from '../../js_src/sweeps';

import { job } from './fakeserver';

const inSweep = (id: string, sweep: string, status = 'SUCCEEDED') =>
  job(id, {
    status,
    spec: { labels: { 'containerjob-sweep': sweep } }
  } as never);

describe('sweeps', () => {
  it("reads a job's sweep from its containerjob-sweep label", () => {
    expect(sweepOf(inSweep('cj-1', 'sw-1a2b3c4d'))).toBe('sw-1a2b3c4d');
    expect(sweepOf(job('cj-2', {}))).toBe('');
  });

  it("groups a sweep's jobs at the place of its first, others stay alone", () => {
    const jobs = [
      job('cj-a', {}),
      inSweep('cj-1', 'sw-x'),
      job('cj-b', {}),
      inSweep('cj-2', 'sw-x', 'FAILED'),
      inSweep('cj-3', 'sw-y')
    ];
    const groups = groupBySweep(jobs, j => j);
    expect(groups.map(g => [g.sweep, g.rows.map(j => j.id)])).toEqual([
      ['', ['cj-a']],
      ['sw-x', ['cj-1', 'cj-2']],
      ['', ['cj-b']],
      ['sw-y', ['cj-3']]
    ]);
    expect(sweepSummary('sw-x', groups[1].rows)).toBe(
      'sweep sw-x · 2 jobs · 1 failed, 1 succeeded'
    );
  });
});
