import {
  ContainerJobAPI,
  IFieldProblem,
  INotebookParameter
} from '../../js_src/api';

import {
  cellLine,
  cellProblems,
  containerFormProblems,
  merged,
  notebookJob,
  notebookProblems,
  scheduleBody,
  scheduleProblems
} from '../../js_src/formchecks';

import { IFormValues } from '../../js_src/widgets/submitform';

import { FakeServer } from './fakeserver';

function values(overrides: Partial<IFormValues> = {}): IFormValues {
  return {
    options: { backend: 'local' },
    args: '',
    rest: '',
    parameters: {},
    schedule: {
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'UTC',
      missed: 'skip',
      max_concurrent: '1'
    },
    ...overrides
  };
}

/** The server's 400 for `problems`, as server/validation.py answers it. */
function refusal(problems: IFieldProblem[]) {
  return {
    status: 400,
    body: {
      error: 'SpecError',
      message: problems.map(p => p.message).join('; '),
      errors: problems
    }
  };
}

const EPOCHS: INotebookParameter = {
  name: 'epochs',
  type: 'int',
  default: 3,
  help: ''
};

describe('the validate routes', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
  });

  it('answer no problems, every field problem, or a plain refusal under no field', async () => {
    server.on('POST jobs/validate', { status: 200, body: { errors: [] } });
    expect(await api.validateJob({ kind: 'cell', source: '' })).toEqual([]);

    const gpus = {
      field: 'options.gpus',
      message: "--gpus 'lots' is not a number"
    };
    server.on('POST jobs/validate', refusal([gpus]));
    expect(await api.validateJob({ kind: 'cell', source: '' })).toEqual([gpus]);

    server.on('POST jobs/validate', {
      status: 400,
      body: { error: 'SpecError', message: "unknown field 'x'" }
    });
    expect(await api.validateJob({ kind: 'cell', source: '' })).toEqual([
      { field: '', message: "unknown field 'x'" }
    ]);
  });

  it('throw what is no refusal (the form then shows nothing)', async () => {
    server.on('POST schedules/validate', {
      status: 500,
      body: { error: 'InternalError', message: 'internal error' }
    });
    await expect(
      api.validateSchedule({ notebook: 'a.ipynb', cron: '' })
    ).rejects.toThrow('internal error');
  });
});

describe('form checks', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
    server.on('POST jobs/validate', { status: 200, body: { errors: [] } });
    server.on('POST schedules/validate', { status: 200, body: { errors: [] } });
  });

  it('merge: the form own problem of a field wins over the server one', () => {
    const own = [{ field: 'options.image', message: 'own' }];
    expect(
      merged(own, [
        { field: 'options.image', message: 'server' },
        { field: 'options.gpus', message: 'gpus' }
      ])
    ).toEqual([...own, { field: 'options.gpus', message: 'gpus' }]);
  });

  it('a cell: the server writes the line; the options it reads in it are checked', async () => {
    const form = values({
      options: { backend: 'local', env: ['GREETING=hello'], gpus: 'lots' },
      rest: '--name quickstart --detach'
    });
    const line =
      '--backend local --gpus lots --env GREETING=hello --name quickstart --detach';
    const read = {
      backend: 'local',
      gpus: 'lots',
      env: ['GREETING=hello'],
      name: 'quickstart'
    };
    server.on('POST magic', {
      status: 200,
      body: { line, options: read, fields: read, rest: '', problems: [] }
    });
    server.on(
      'POST jobs/validate',
      refusal([
        { field: 'options.gpus', message: "--gpus 'lots' is not a number" }
      ])
    );

    expect((await cellLine(api, form)).line).toBe(line);
    expect(await cellProblems(api, form, 'import os')).toEqual([
      { field: 'options.gpus', message: "--gpus 'lots' is not a number" }
    ]);
    expect(server.calls('POST magic')[0].body).toEqual({
      options: form.options,
      rest: '--name quickstart --detach'
    });
    expect(server.calls('POST jobs/validate')[0].body).toEqual({
      kind: 'cell',
      source: 'import os',
      options: read
    });
  });

  it('a cell: what the magic refuses on the line is named first; the fields are still checked', async () => {
    const quote = {
      field: 'rest',
      message: 'Other flags: No closing quotation'
    };
    const image = { field: 'options.image', message: 'contains whitespace' };
    server.on('POST magic', {
      status: 200,
      body: {
        line: '--backend local',
        options: { backend: 'local' },
        fields: { backend: 'local' },
        rest: '--name "x',
        problems: [image, quote]
      }
    });
    server.on(
      'POST jobs/validate',
      refusal([{ field: 'options.image', message: 'server words' }])
    );
    const problems = await cellProblems(
      api,
      values({
        options: { backend: 'local', image: 'a b' },
        rest: '--name "x'
      }),
      ''
    );
    expect(problems).toEqual([image, quote]);
    expect(server.calls('POST jobs/validate')[0].body).toEqual({
      kind: 'cell',
      source: '',
      options: { backend: 'local' }
    });
  });

  it('a notebook: the server types the parameter texts; what fits no type is named, the rest is checked', async () => {
    const many = {
      field: 'parameters.epochs',
      message: 'parameter epochs: "many" is not an int, e.g. 3'
    };
    server.on('POST notebooks/parameters', {
      status: 200,
      body: { values: {}, problems: [many] }
    });
    const problems = await notebookProblems(
      api,
      'work/train.ipynb',
      [EPOCHS],
      values({ parameters: { epochs: 'many' }, options: { timeout: 'soon' } })
    );
    expect(problems).toEqual([many]);
    expect(server.calls('POST notebooks/parameters')[0].body).toEqual({
      parameters: [EPOCHS],
      texts: { epochs: 'many' }
    });
    expect(server.calls('POST jobs/validate')[0].body).toEqual({
      kind: 'notebook',
      path: 'work/train.ipynb',
      options: { timeout: 'soon' }
    });

    server.on('POST notebooks/parameters', {
      status: 200,
      body: { values: { epochs: 5 }, problems: [] }
    });
    const typed = values({ parameters: { epochs: '5' } });
    expect(await notebookJob(api, 'nb.ipynb', [EPOCHS], typed)).toEqual({
      kind: 'notebook',
      path: 'nb.ipynb',
      parameters: { epochs: 5 },
      options: { backend: 'local' },
      origin: 'nb.ipynb'
    });
  });

  it('a container: Image is required by the form, the rest by the server', async () => {
    server.on(
      'POST jobs/validate',
      refusal([
        { field: 'options.image', message: 'server words' },
        { field: 'options.timeout', message: "--timeout 'soon'" }
      ])
    );
    const problems = await containerFormProblems(
      api,
      values({ options: { backend: 'local', timeout: 'soon' }, args: 'a b' })
    );
    expect(problems.map(p => [p.field, p.message.slice(0, 17)])).toEqual([
      ['options.image', 'Image is required'],
      ['options.timeout', "--timeout 'soon'"]
    ]);
    expect(server.calls('POST jobs/validate')[0].body).toEqual({
      kind: 'container',
      options: { backend: 'local', timeout: 'soon' },
      args_text: 'a b'
    });
  });

  it('a container: the server splits the Arguments and names one it cannot split', async () => {
    const unclosed = {
      field: 'args_text',
      message:
        'args_text "--name \'my run" cannot be split into words (no closing quotation); close the quote, or escape it with a backslash'
    };
    server.on('POST jobs/validate', refusal([unclosed]));
    const problems = await containerFormProblems(
      api,
      values({ options: { image: 'x:1' }, args: "--name 'my run" })
    );
    expect(problems).toEqual([unclosed]);
    expect(server.calls('POST jobs/validate')[0].body).toEqual({
      kind: 'container',
      options: { image: 'x:1' },
      args_text: "--name 'my run"
    });
  });

  it('a schedule: Max concurrent "two" goes to the server as typed, never as 1', async () => {
    const typed = (text: string) =>
      values({ schedule: { ...values().schedule, max_concurrent: text } });
    const body = (text: string) =>
      scheduleBody(api, 'nb.ipynb', [], typed(text));
    expect((await body('two')).max_concurrent).toBe('two');
    expect((await body('3')).max_concurrent).toBe(3);
    expect('max_concurrent' in (await body(''))).toBe(false);
    // No parameters declared: nothing to type, no request.
    expect(server.calls('POST notebooks/parameters')).toEqual([]);
    server.on('POST notebooks/parameters', {
      status: 200,
      body: { values: {}, problems: [] }
    });

    const words = "field 'max_concurrent' must be a whole number, not 'two'";
    server.on(
      'POST schedules/validate',
      refusal([{ field: 'max_concurrent', message: words }])
    );
    expect(
      await scheduleProblems(api, 'nb.ipynb', [EPOCHS], typed('two'))
    ).toEqual([{ field: 'max_concurrent', message: words }]);
    expect(server.calls('POST schedules/validate')[0].body).toEqual({
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'UTC',
      missed: 'skip',
      max_concurrent: 'two',
      notebook: 'nb.ipynb',
      parameters: {},
      options: { backend: 'local' }
    });
  });
});
