import { liveSeconds } from '../../js_src/elapsed';
import {
  firstCodeLine,
  readableName,
  scheduleOf,
  searchText
} from '../../js_src/jobnames';
import { replicaCount } from '../../js_src/widgets/replicas';
import { splitByNotebook } from '../../js_src/widgets/onelist';

import { job } from './fakeserver';

describe('liveSeconds', () => {
  it("counts on from the server's duration by the local time since it arrived", () => {
    const running = job('cj-1', { duration_s: 22 });
    // The browser's clock may be anywhere; only the time since the answer counts.
    expect(liveSeconds(running, 5000, 8500)).toBeCloseTo(25.5);
    expect(liveSeconds(running, 5000, 5000)).toBe(22);
  });

  it('stands still once the job is final, and is empty before it starts', () => {
    const done = job('cj-1', { status: 'SUCCEEDED', duration_s: 4 });
    expect(liveSeconds(done, 0, 60000)).toBe(4);
    const queued = job('cj-2', { status: 'QUEUED', duration_s: null });
    expect(liveSeconds(queued, 0, 60000)).toBeNull();
  });

  it('never counts back when the clock reads before the arrival', () => {
    expect(liveSeconds(job('cj-1', { duration_s: 3 }), 9000, 8000)).toBe(3);
  });
});

describe('readableName', () => {
  const cellJob = job('cj-abc', {
    name: 'containerjob',
    origin: 'work/analysis.ipynb',
    spec: { kind: 'cell' }
  });

  it('names a cell job by notebook, cell number and first line of code', () => {
    expect(
      readableName(cellJob, {
        number: 3,
        source: '%%containerjob --backend local\n# load\n\ndf = load()\n'
      })
    ).toBe('analysis.ipynb · cell 3: df = load()');
    expect(readableName(cellJob)).toBe('analysis.ipynb · cell');
  });

  it('prefers a chosen name and never falls back to the id alone where it knows more', () => {
    expect(readableName({ ...cellJob, name: 'nightly-train' })).toBe(
      'nightly-train'
    );
    const container = job('cj-x', {
      name: 'trainer:1 · python -V', // the server's name (core/job_names.py)
      image: 'us-docker.pkg.dev/p/r/trainer:1',
      spec: { kind: 'container', worker_pools: [{ command: ['python', '-V'] }] }
    });
    expect(readableName(container)).toBe('trainer:1 · python -V');
    expect(readableName({ ...container, name: 'cj-x' })).toBe('trainer:1');
    const notebook = job('cj-n', {
      name: 'cj-n',
      origin: 'reports/weekly.ipynb',
      spec: { kind: 'notebook' }
    });
    expect(readableName(notebook)).toBe('weekly.ipynb');
  });

  it('skips magics, comments and blank lines for the first line', () => {
    expect(firstCodeLine('%%containerjob\n\n# note\n  x = 1\n')).toBe('x = 1');
    expect(firstCodeLine('%%containerjob\n')).toBe('');
  });
});

describe('schedule runs', () => {
  it('are found by their label and searchable by it', () => {
    const run = job('cj-s', {
      spec: { labels: { 'containerjob-schedule': 'sch-42' } }
    });
    expect(scheduleOf(run)).toBe('sch-42');
    expect(scheduleOf(job('cj-t'))).toBe('');
    expect(searchText(run, 'weekly.ipynb')).toContain('sch-42');
  });
});

describe('splitByNotebook', () => {
  const jobs = [
    job('cj-3', { created_at: 30, backend: 'vertex' }),
    job('cj-2', { created_at: 20 }),
    job('cj-1', { created_at: 10 })
  ];
  const source = {
    jobs,
    get: (id: string) => jobs.find(j => j.id === id)
  };

  it("lists the notebook's jobs newest first and every other job once", () => {
    const { fromNotebook, others } = splitByNotebook(
      ['cj-1', 'cj-3', 'cj-new'],
      source
    );
    expect(fromNotebook.map(j => j.id)).toEqual(['cj-new', 'cj-3', 'cj-1']);
    expect(others.map(j => j.id)).toEqual(['cj-2']);
  });

  it('applies the backend filter to both parts', () => {
    const { fromNotebook, others } = splitByNotebook(
      ['cj-1', 'cj-3', 'cj-new'],
      { jobs: jobs.filter(j => j.backend === 'local'), get: source.get },
      'local'
    );
    expect(fromNotebook.map(j => j.id)).toEqual(['cj-1']);
    expect(others.map(j => j.id)).toEqual(['cj-2']);
  });
});

describe('replicaCount', () => {
  it('adds up the pools', () => {
    expect(
      replicaCount(
        job('cj-p', {
          spec: { worker_pools: [{ replica_count: 1 }, { replica_count: 2 }] }
        })
      )
    ).toBe(3);
    expect(replicaCount(job('cj-q'))).toBe(1);
  });
});
