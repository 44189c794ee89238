import { IStateDB } from '@jupyterlab/statedb';

import { ISubmitJob } from '../../js_src/api';

import { Submissions, submissionNotices } from '../../js_src/submissions';

import { job } from './fakeserver';

/** The state database's save and fetch, in memory: what would be written to disk. */
function stateDB(): { db: IStateDB; saved: Map<string, unknown> } {
  const saved = new Map<string, unknown>();
  const db = {
    save: async (key: string, value: unknown) => {
      saved.set(key, value);
    },
    fetch: async (key: string) => saved.get(key)
  } as unknown as IStateDB;
  return { db, saved };
}

describe('Submissions', () => {
  it('keep a body with --secret-env values in memory only', async () => {
    const { db, saved } = stateDB();
    const submissions = new Submissions(db);
    const plain: ISubmitJob = { kind: 'container', options: { env: ['A=1'] } };
    const secret: ISubmitJob = {
      kind: 'container',
      options: { secret_env: ['API=hunter2'] }
    };
    submissions.remember('cj-00000001', plain);
    submissions.remember('cj-00000002', secret);
    expect(submissions.get('cj-00000002')).toEqual(secret); // re-run until a reload
    expect(JSON.stringify([...saved.values()])).not.toContain('hunter2');
    const reloaded = new Submissions(db);
    await reloaded.restore();
    expect(reloaded.get('cj-00000001')).toEqual(plain);
    expect(reloaded.get('cj-00000002')).toBeUndefined();
  });
});

describe('submissionNotices', () => {
  it('show each warning of the POST jobs answer, a note as information', () => {
    const submitted = {
      ...job('cj-00000003', { name: 'train', backend: 'vertex' }),
      warnings: [
        "warning: machine type n5-standard-8: the n5 family is not in containerjob's copy",
        'note: gs://b is in EU, the job runs in us-central1: reads cross regions'
      ]
    };
    expect(submissionNotices(submitted)).toEqual([
      {
        message:
          "Job train (cj-00000003) (vertex): machine type n5-standard-8: the n5 family is not in containerjob's copy",
        type: 'warning'
      },
      {
        message:
          'Job train (cj-00000003) (vertex): gs://b is in EU, the job runs in us-central1: reads cross regions',
        type: 'info'
      }
    ]);
    expect(submissionNotices({ ...submitted, warnings: [] })).toEqual([]);
  });
});
