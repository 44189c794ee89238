import { INotebookParameter } from '../../js_src/api';
import {
  changedParameters,
  defaultText,
  parseParameter
} from '../../js_src/parameters';

const p = (name: string, type: string, def: unknown): INotebookParameter => ({
  name,
  type,
  default: def,
  help: ''
});

describe('notebook parameters', () => {
  const declared = [
    p('epochs', 'int', '10'),
    p('lr', 'float', '0.1'),
    p('optimizer', 'str', "'adam'"),
    p('shuffle', 'bool', 'True'),
    p('layers', 'list', '[64, 32]'),
    p('anything', 'any', 'None')
  ];

  it('starts each input with the default as the notebook declares it', () => {
    expect(declared.map(defaultText)).toEqual([
      '10',
      '0.1',
      "'adam'",
      'True',
      '[64, 32]',
      'None'
    ]);
    expect(defaultText(p('n', 'int', 3))).toBe('3');
  });

  it('sends only the values that changed, typed', () => {
    expect(
      changedParameters(declared, {
        epochs: '3',
        lr: ' 0.1 ',
        optimizer: "'sgd'",
        shuffle: 'false',
        layers: '[8]',
        anything: '{"a": 1}'
      })
    ).toEqual({
      epochs: 3,
      optimizer: 'sgd',
      shuffle: false,
      layers: [8],
      anything: { a: 1 }
    });
  });

  it('keeps unquoted text for str and unparseable text for untyped parameters', () => {
    expect(parseParameter(declared[2], 'rmsprop')).toBe('rmsprop');
    expect(parseParameter(declared[5], 'hello')).toBe('hello');
  });

  it('names the parameter and the expected form when a value does not fit', () => {
    expect(() => parseParameter(declared[0], '3.5')).toThrow(
      'parameter epochs: "3.5" is not an int, e.g. 3'
    );
    expect(() => parseParameter(declared[1], 'fast')).toThrow(
      'parameter lr: "fast" is not a number, e.g. 0.1'
    );
    expect(() => parseParameter(declared[3], 'yes')).toThrow(
      'parameter shuffle: "yes" is not True or False'
    );
    expect(() => parseParameter(declared[4], '[1,')).toThrow(
      'parameter layers: "[1," is not a JSON list, e.g. [1, 2]'
    );
  });
});
