import { IStateDB } from '@jupyterlab/statedb';

import { ISubmitJob } from '../../js_src/api';

import { Submissions } from '../../js_src/submissions';

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
