/**
 * CustomJob files in the "Run a container" form: which files the file
 * browser offers to run, and what a file sets as the form shows it (the
 * server reads the file, `GET customjob`; nothing here parses YAML). Pure
 * functions, so the rules are testable alone.
 */
import { ICustomJobFile } from './api';

/** Whether the file browser offers to run the file `name` as a CustomJob. */
export function isJobFile(name: string): boolean {
  return /\.(ya?ml|json)$/i.test(name);
}

/** The options a file may set that the facts name on their own line. */
const SHOWN = new Set(['image', 'machine_type', 'accelerator', 'env']);

/**
 * What the file sets, as `[label, text]`: image, command and arguments
 * (as the server joined them into lines),
 * machine, replicas, the environment's names, then any other option it
 * sets by name (the form's fields override each).
 */
export function fileFacts(file: ICustomJobFile): [string, string][] {
  const options = file.options as Record<string, unknown>;
  const facts: [string, string][] = [
    ['Image', file.options.image ?? ''],
    ['Command', file.command_text ?? "the image's ENTRYPOINT"],
    ['Arguments', file.args_text ?? noArgs(file)]
  ];
  const machine = [file.options.machine_type, file.options.accelerator]
    .filter(Boolean)
    .join(' with ');
  if (machine) {
    facts.push(['Machine', machine]);
  }
  facts.push(['Replicas', replicas(file)]);
  const env = file.options.env ?? [];
  if (env.length) {
    facts.push(['Environment', env.map(item => item.split('=')[0]).join(', ')]);
  }
  const others = Object.keys(options).filter(name => !SHOWN.has(name));
  if (others.length) {
    facts.push(['Also sets', others.join(', ')]);
  }
  return facts;
}

function replicas(file: ICustomJobFile): string {
  if (!file.pools.length) {
    return '1 (the chief alone)';
  }
  const total = 1 + file.pools.reduce((sum, p) => sum + p.replica_count, 0);
  const pools = file.pools.map(
    pool => `${pool.replica_count} × ${pool.machine_type} (${pool.image})`
  );
  return `${total}: the chief, then ${pools.join(', ')}`;
}

/**
 * Placeholders of the fields the file fills when left empty: what runs
 * unless the user types something else.
 */
export function filePlaceholders(file: ICustomJobFile): {
  image: string;
  command: string;
  args: string;
} {
  const from = (text: string, none: string): string =>
    text ? `from the file: ${text}` : none;
  return {
    image: from(file.options.image ?? '', 'required'),
    command: from(file.command_text ?? '', "the image's ENTRYPOINT"),
    args: from(file.args_text ?? '', noArgs(file))
  };
}

/** What runs without arguments: none after a command, else the image's CMD. */
function noArgs(file: ICustomJobFile): string {
  return file.command_text !== null ? 'none' : "none: the image's CMD";
}
