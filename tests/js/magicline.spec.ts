/**
 * The browser reads and writes `%%containerjob` lines through `POST magic`
 * (the magic's own parser on the server): what it asks, what it shows.
 */
import { ContainerJobAPI, IMagicLine } from '../../js_src/api';

import {
  fieldNames,
  readLine,
  unreadable,
  writeLine
} from '../../js_src/magicline';

import { FakeServer } from './fakeserver';

function reply(overrides: Partial<IMagicLine> = {}): {
  status: number;
  body: IMagicLine;
} {
  return {
    status: 200,
    body: {
      line: '--name quickstart --env GREETING=hello',
      options: { name: 'quickstart', env: ['GREETING=hello'] },
      fields: { env: ['GREETING=hello'] },
      rest: '--name quickstart',
      problems: [],
      ...overrides
    }
  };
}

describe('magic lines through the server', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
  });

  it('names the fields a form shows, in table order', () => {
    const shown = new Set(['env', 'image', 'gpus']);
    expect(fieldNames(name => shown.has(name))).toEqual([
      'image',
      'gpus',
      'env'
    ]);
  });

  it('reads a line: the fields shown go with it, the reply is what the form shows', async () => {
    server.on('POST magic', reply());
    const read = await readLine(
      api,
      '--name quickstart --env GREETING=hello',
      name => name === 'env'
    );
    expect(server.calls('POST magic')[0].body).toEqual({
      line: '--name quickstart --env GREETING=hello',
      fields: ['env']
    });
    expect(read.fields).toEqual({ env: ['GREETING=hello'] });
    expect(read.rest).toBe('--name quickstart');
    expect(unreadable(read)).toBeNull();
  });

  it('says when the magic cannot read the line at all', async () => {
    const problem = {
      field: 'line',
      message: 'cannot read the %%containerjob line: No closing quotation'
    };
    server.on('POST magic', reply({ problems: [problem] }));
    expect(unreadable(await readLine(api, "--image 'x", () => true))).toBe(
      problem.message
    );
    // A refused word is no unreadable line: the form shows it under its field.
    server.on(
      'POST magic',
      reply({ problems: [{ field: 'rest', message: '--imgae is not a flag' }] })
    );
    expect(unreadable(await readLine(api, '--imgae x', () => true))).toBeNull();
  });

  it('writes a line from the options and Other flags as typed', async () => {
    server.on('POST magic', reply());
    await writeLine(api, { env: ['GREETING=hello'] }, '--name quickstart');
    await writeLine(api, { gpus: '1' }, '', name => name === 'gpus');
    expect(server.calls('POST magic').map(call => call.body)).toEqual([
      { options: { env: ['GREETING=hello'] }, rest: '--name quickstart' },
      { options: { gpus: '1' }, rest: '', fields: ['gpus'] }
    ]);
  });
});
