/**
 * Notebook parameters as typed in a form -> JSON values for `POST jobs`.
 *
 * The server reports each parameter's type and default as papermill infers
 * them from the notebook's `parameters` cell (the default is Python source,
 * e.g. `10` or `'adam'`); only values changed from the default are sent.
 */
import { IFieldProblem, INotebookParameter } from './api';

/** The text a parameter's input starts with. */
export function defaultText(parameter: INotebookParameter): string {
  const value = parameter.default;
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function unquote(text: string): string {
  const match = /^(['"])(.*)\1$/s.exec(text);
  return match ? match[2] : text;
}

/**
 * The JSON value for `text` typed for `parameter`; throws an Error naming the
 * parameter and the expected form when it does not fit the type.
 */
export function parseParameter(
  parameter: INotebookParameter,
  text: string
): unknown {
  const value = text.trim();
  const fail = (expected: string): never => {
    throw new Error(
      `parameter ${parameter.name}: "${value}" is not ${expected}`
    );
  };
  switch (parameter.type) {
    case 'int':
      return /^[-+]?\d+$/.test(value) ? Number(value) : fail('an int, e.g. 3');
    case 'float':
      return value !== '' && isFinite(Number(value))
        ? Number(value)
        : fail('a number, e.g. 0.1');
    case 'bool':
      if (/^true$/i.test(value)) {
        return true;
      }
      return /^false$/i.test(value) ? false : fail('True or False');
    case 'str':
      return unquote(value);
    case 'list':
    case 'dict':
      try {
        return JSON.parse(value);
      } catch {
        return fail(
          `a JSON ${parameter.type}, e.g. ${parameter.type === 'list' ? '[1, 2]' : '{"a": 1}'}`
        );
      }
    default:
      try {
        return JSON.parse(value);
      } catch {
        return unquote(value);
      }
  }
}

/**
 * The parameters to send: those whose text differs from the default,
 * converted by type. Throws the first conversion error.
 */
export function changedParameters(
  declared: INotebookParameter[],
  texts: Record<string, string>
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const parameter of declared) {
    const text = texts[parameter.name];
    if (text === undefined || text.trim() === defaultText(parameter).trim()) {
      continue;
    }
    values[parameter.name] = parseParameter(parameter, text);
  }
  return values;
}

/**
 * The typed texts that do not fit their parameter's type, each under its
 * parameter (`parameters.NAME`).
 */
export function parameterProblems(
  declared: INotebookParameter[],
  texts: Record<string, string>
): IFieldProblem[] {
  const problems: IFieldProblem[] = [];
  for (const parameter of declared) {
    try {
      changedParameters([parameter], texts);
    } catch (reason) {
      problems.push({
        field: `parameters.${parameter.name}`,
        message: (reason as Error).message
      });
    }
  }
  return problems;
}
